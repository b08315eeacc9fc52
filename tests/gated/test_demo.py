"""The demo leads load once, with varied channels."""

import pytest
from sqlalchemy import func, select

from core.extensions import db
from gated import demo
from gated.models import Download, Lead, Submission

pytestmark = pytest.mark.usefixtures("app")


def test_demo_leads_are_idempotent_and_varied(whitepaper):
    lines = []
    demo.load(lines.append)
    demo.load(lines.append)
    assert db.session.scalar(select(func.count()).select_from(Lead)) == len(demo.DEMO_LEADS)
    assert db.session.scalar(select(func.count()).select_from(Submission)) == len(demo.DEMO_LEADS)
    channels = set(db.session.scalars(select(Lead.first_channel)))
    assert {"paid_search", "organic_search", "social", "email", "direct"} <= channels
    assert "already there" in lines[-1]
    assert (
        db.session.scalar(select(func.count()).select_from(Download)) == 4
    )  # four of the five white paper leads
