"""Side by side: what core/ costs on the paths where it once overrode library internals.

Prints microseconds per call for the paths those overrides served: signing and checking a
download token (core.tokens.sign/unsign), a new visitor's CSRF token and session cookie
(the form of a page rendered for someone without a session), and the same in a whole
request. Run it on two commits to compare (`git stash`/`git checkout`); no figure here is
a test, and docs/PERFORMANCE.md says which were measured when.

    python bench/stock_libraries.py [--rounds 20000]
"""

import argparse
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import render_template_string, session  # noqa: E402

from app import create_app  # noqa: E402
from core.tokens import sign, unsign  # noqa: E402

FORM = '<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}"></form>'


def per_call_us(func, rounds: int) -> float:
    """The best of three runs, in microseconds per call."""
    return min(timeit.repeat(func, number=rounds, repeat=3)) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20000)
    rounds = parser.parse_args().rounds
    folder = tempfile.mkdtemp()
    app = create_app(
        {
            "SECRET_KEY": "k" * 48,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "INDEX_DIR": f"{folder}/index",
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": False,
            "TRUSTED_HOSTS": "localhost",  # the test client's host
        }
    )

    @app.get("/bench-form")
    def bench_form():
        return render_template_string(FORM)

    with app.app_context():
        token = sign("download", {"lead": 12345, "asset": 678})
        print(
            f"sign a download token     {per_call_us(lambda: sign('download', {'lead': 1, 'asset': 2}), rounds):8.1f} us"
        )
        print(
            f"check a download token    {per_call_us(lambda: unsign('download', token, max_age=3600), rounds):8.1f} us"
        )

    def new_visitor_form():
        with app.test_request_context("/"):
            render_template_string(FORM)
            app.session_interface.get_signing_serializer(app).dumps(dict(session))

    print(f"new visitor's CSRF+cookie {per_call_us(new_visitor_form, rounds // 4):8.1f} us")
    client = app.test_client(use_cookies=False)
    print(f"request, new visitor form {per_call_us(lambda: client.get('/bench-form'), rounds // 10):8.1f} us")


if __name__ == "__main__":
    main()
