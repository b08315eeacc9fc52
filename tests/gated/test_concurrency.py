"""Double clicks and races: identical submissions sent at once to a real threaded server
make exactly one lead (the unique key and the upsert hold), and none is lost; one
proof-of-work solution sent many times at once is spent once; a confirm button clicked
many times at once stores one submission and sends one mail."""

import re

import pytest
from sqlalchemy import func, select

from core.extensions import db
from gated import visitor
from gated.models import HeldSubmission, Lead, Submission
from tests.conftest import post_at_once
from tests.factories import fast, form_data

pytestmark = pytest.mark.usefixtures("app")
THREADS = 12


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_concurrent_identical_submissions_make_one_lead(live_server, whitepaper):
    answers = post_at_once(f"{live_server}/library/saas-renewal", form_data(), THREADS)
    assert [status for status, _ in answers] == [303] * THREADS
    assert count(Lead) == 1
    assert count(Submission) == THREADS


def test_one_solution_sent_at_once_many_times_stores_one_submission(live_server, whitepaper, solve):
    answers = post_at_once(f"{live_server}/library/saas-renewal", fast(altcha=solve()), THREADS)
    assert sorted(status for status, _ in answers) == [202] * (THREADS - 1) + [303]
    assert count(Submission) == 1
    assert db.session.scalars(select(HeldSubmission.reason)).all() == ["replayed"] * (THREADS - 1)


def test_a_confirm_clicked_many_times_at_once_stores_one_submission(
    client, live_server, whitepaper, recorder
):
    page = client.post("/library/saas-renewal", data=fast()).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    answers = post_at_once(f"{live_server}/forms/confirm", {"token": token}, THREADS)
    assert {status for status, _ in answers} == {303}
    thanked_for = {visitor.thanks_submission(location.split("t=")[1]).id for _, location in answers}
    assert thanked_for == {db.session.scalar(select(Submission.id))}
    assert count(Submission) == 1 and len(recorder.of("mail_requested")) == 1
