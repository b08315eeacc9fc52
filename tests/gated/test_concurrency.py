"""Double clicks and races: identical submissions sent at once to a real threaded server
make exactly one lead (the unique key and the upsert hold), and none is lost."""

import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from core.extensions import db
from gated.models import Lead, Submission
from tests.gated.conftest import form_data

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


def test_concurrent_identical_submissions_make_one_lead(live_server, whitepaper):
    body = urllib.parse.urlencode(form_data()).encode()
    barrier = threading.Barrier(THREADS)
    statuses = []

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def submit():
        barrier.wait()
        try:
            with opener.open(f"{live_server}/library/saas-renewal", data=body, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
            exc.close()

    threads = [threading.Thread(target=submit) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    assert statuses == [303] * THREADS
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1
    assert db.session.scalar(select(func.count()).select_from(Submission)) == THREADS
