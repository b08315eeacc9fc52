"""Double clicks and races: identical submissions sent at once to a real threaded server
make exactly one lead (the unique key and the upsert hold), and none is lost; one
proof-of-work solution sent many times at once is spent once; a confirm button clicked
many times at once stores one submission and sends one mail."""

import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from core.extensions import db
from gated import visitor
from gated.models import HeldSubmission, Lead, Submission
from tests.gated.conftest import fast, form_data

pytestmark = pytest.mark.usefixtures("app")
THREADS = 12


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def post_at_once(url: str, data: dict) -> list[tuple[int, str]]:
    """The same form POSTed by THREADS clients released together: (status, Location) each."""
    body = urllib.parse.urlencode(data).encode()
    barrier = threading.Barrier(THREADS)
    answers = []

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def submit():
        barrier.wait()
        try:
            with opener.open(url, data=body, timeout=30) as response:
                answers.append((response.status, response.headers.get("Location", "")))
        except urllib.error.HTTPError as exc:
            answers.append((exc.code, exc.headers.get("Location", "")))
            exc.close()

    threads = [threading.Thread(target=submit) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    return answers


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_concurrent_identical_submissions_make_one_lead(live_server, whitepaper):
    answers = post_at_once(f"{live_server}/library/saas-renewal", form_data())
    assert [status for status, _ in answers] == [303] * THREADS
    assert count(Lead) == 1
    assert count(Submission) == THREADS


def test_one_solution_sent_at_once_many_times_stores_one_submission(live_server, whitepaper, solve):
    answers = post_at_once(f"{live_server}/library/saas-renewal", fast(altcha=solve()))
    assert sorted(status for status, _ in answers) == [202] * (THREADS - 1) + [303]
    assert count(Submission) == 1
    assert db.session.scalars(select(HeldSubmission.reason)).all() == ["replayed"] * (THREADS - 1)


def test_a_confirm_clicked_many_times_at_once_stores_one_submission(
    client, live_server, whitepaper, recorder
):
    page = client.post("/library/saas-renewal", data=fast()).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    answers = post_at_once(f"{live_server}/forms/confirm", {"token": token})
    assert {status for status, _ in answers} == {303}
    thanked_for = {visitor.thanks_submission(location.split("t=")[1]).id for _, location in answers}
    assert thanked_for == {db.session.scalar(select(Submission.id))}
    assert count(Submission) == 1 and len(recorder.of("mail_requested")) == 1
