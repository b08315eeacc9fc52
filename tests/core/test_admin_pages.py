"""Every admin page, as the demo data fills them and an admin reaches them by links, in
the Chinese UI: no time said to be UTC (each is in the reader's zone) and no internal code
(an event kind, a condition, a weekday, a role, a status) where words belong."""

import re
from html import unescape

import pytest

from accounts.models import ROLES as STAFF_ROLES
from assistant.models import ANSWERS, TICKET_ROUTES, TICKET_STATUSES
from content.models import KINDS, STATUSES
from core.extensions import db
from gated.models import CHANNELS, FORMS, STAGES
from gated.models import ROLES as LEAD_ROLES
from insights.models import EVENT_KINDS
from insights.scoring.models import OUTCOMES, RULE_KINDS
from nurture.models import (
    DAYS,
    ENROLLMENT_STATUSES,
    EXIT_REASONS,
    MESSAGE_STATUSES,
    SEQUENCE_STATUSES,
    SUPPRESSION_REASONS,
    TRIGGERS,
)
from nurture.validation import CONDITIONS
from tests.conftest import admin_pages, empty_tables, sign_in_session
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("app")

CODES = {
    *STAFF_ROLES,
    *ANSWERS,
    *TICKET_ROUTES,
    *TICKET_STATUSES,
    *KINDS,
    *STATUSES,
    *CHANNELS,
    *FORMS,
    *STAGES,
    *LEAD_ROLES,
    *EVENT_KINDS,
    *OUTCOMES,
    *RULE_KINDS,
    *DAYS,
    *ENROLLMENT_STATUSES,
    *EXIT_REASONS,
    *MESSAGE_STATUSES,
    *SEQUENCE_STATUSES,
    *SUPPRESSION_REASONS,
    *TRIGGERS,
    *CONDITIONS,
    "decay",
    "sales_rejected",
}
# A code with an underscore is never a word, wherever it stands; a plain one ("sent",
# "new") is a code when it is all a cell, an option, a badge or a list item says (an
# English article's text may use the word). Channel and form names are left to the first
# rule: people type them as UTM values (utm_source=newsletter, utm_medium=email), which
# the lead pages show as typed.
SNAKE = re.compile(r"\b(" + "|".join(sorted(code for code in CODES if "_" in code)) + r")\b")
WHOLE = CODES - set(CHANNELS) - set(FORMS)
WORD_ELEMENTS = re.compile(r"<(td|th|dd|option|li|span)\b[^>]*>([^<]*)</\1>")


def without_code(html: str) -> str:
    """The page without scripts, styles, <code>, <pre> and text areas (code shown as code)."""
    return re.sub(r"<(script|style|code|textarea|pre)\b.*?</\1>", " ", html, flags=re.S)


def visible_text(html: str) -> str:
    """What a reader sees as words, without code, addresses and paths (admin@…,
    /library/…), which are names, not codes."""
    text = unescape(re.sub(r"<[^>]+>", " ", without_code(html)))
    return re.sub(r"\S*[@/]\S*", " ", text)


def codes_on(html: str) -> set[str]:
    """The codes a page shows: as a whole element's text, or any snake_case one."""
    whole = {unescape(text).strip() for _tag, text in WORD_ELEMENTS.findall(without_code(html))}
    return (whole & WHOLE) | set(SNAKE.findall(visible_text(html)))


@pytest.fixture(scope="module")
def pages(app):
    """The walk, once for the module's tests (it reads about a hundred pages)."""
    with app.app_context():
        try:
            assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
            client = app.test_client()
            sign_in_session(client, UserFactory(role="admin"))
            client.get("/admin/?lang=zh_CN")

            def get(path):
                response = client.get(path)
                return response.status_code, response.content_type, response.get_data(as_text=True)

            found = admin_pages(get)
        finally:
            db.session.rollback()
            empty_tables()
    assert len(found) > 20, sorted(found)
    return found


def test_no_admin_page_says_utc(pages):
    assert {path for path, html in pages.items() if re.search(r"\bUTC\b", visible_text(html))} == set()


def test_no_admin_page_shows_a_code(pages):
    shown = {path: sorted(codes_on(html)) for path, html in pages.items()}
    assert {path: codes for path, codes in shown.items() if codes} == {}
