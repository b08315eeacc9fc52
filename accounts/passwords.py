"""The staff password policy, and a login check that costs the same whether or not the
address belongs to anyone.

The policy asks for length and then for a password zxcvbn (Dropbox's estimator: its
lists of common passwords, words and names, and its detection of repeated, sequential,
keyboard and date patterns) scores as at least "safely unguessable" (3 of 4), with the
user's own address and name and the site's name counted as known words. `aaaaaaaaaa`,
`1234567890`, `qwertyuiop`, `password123` and `woaini1314` are all refused.
"""

import functools
import secrets

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 10
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from an offline attack".
MIN_SCORE = 3
# zxcvbn's time grows with the length; past this nothing it checks is still weak.
CHECKED_LENGTH = 100
SITE_WORDS = ("lodestar", "admin", "staff")


def password_problem(password: str, *, known: tuple[str, ...] = ()) -> str | None:
    """Why this password is refused, in the user's language, or None when it is good.
    `known`: the user's address, name and the site's name, which make a guess easy."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(count)d characters.", count=MIN_LENGTH)
    words = [word for text in (*known, *SITE_WORDS) for word in _words(text)]
    result = zxcvbn(password[:CHECKED_LENGTH], user_inputs=words)
    if result["score"] >= MIN_SCORE:
        return None
    patterns = {match["pattern"] for match in result["sequence"]}
    if "repeat" in patterns:
        return _l("Repeated characters (such as aaaaaaaaaa or abcabcabc) are easy to guess.")
    if patterns & {"sequence", "spatial"}:
        return _l("Characters in a row (such as 1234567890, abcdefghij or qwertyuiop) are easy to guess.")
    return _l(
        "This password is common or close to a common one; try a few words that do not belong together."
    )


def _words(text: str) -> list[str]:
    """An address gives its whole, its local part and its domain's name as known words."""
    text = (text or "").strip().lower()
    local, _, domain = text.partition("@")
    return [word for word in {text, local, domain.split(".")[0]} if word]


@functools.cache
def _unknown_user_hash() -> str:
    """A hash made the way set_password makes them, of a password nobody knows: an
    unknown address is checked against it, so a wrong address takes as long as a wrong
    password and the login's timing does not tell who has an account."""
    return generate_password_hash(secrets.token_urlsafe(32))


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether the password matches the hash; without a hash (no such user, or an invited
    one who has not set a password yet) the same work is done against a hash nobody can
    match, and the answer is False."""
    matched = check_password_hash(password_hash or _unknown_user_hash(), password)
    return matched and bool(password_hash)
