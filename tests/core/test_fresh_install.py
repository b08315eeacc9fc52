"""A new site, migrated with `flask db upgrade` and never given the demo, works like the
demo: its default scoring rules score a lead from the first form, up to sales, and its
support tiers are there."""

import pytest
from sqlalchemy import func, select

from app import create_app
from assistant.models import Tier
from core.extensions import db
from gated.models import Lead
from insights.scoring.models import Handoff, ScoreChange, ScoreRule
from tests.conftest import IsolatedClient, fresh_postgres_url, settings_for_tests
from tests.factories import UserFactory, form_data


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_app(request, tmp_path, smtp_server):
    """An app on an empty database that only `flask db upgrade` has touched."""
    url = f"sqlite:///{tmp_path}/fresh.db" if request.param == "sqlite" else fresh_postgres_url("fresh")
    application = create_app(settings_for_tests(url, tmp_path, smtp_server.port))
    application.test_client_class = IsolatedClient
    result = application.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def test_a_demo_request_on_a_fresh_site_scores_the_lead_and_hands_it_to_sales(fresh_app):
    sales = UserFactory(role="sales")
    response = fresh_app.test_client().post(
        "/demo-request",
        data=form_data(
            email="wang.fang@xinghe.cn", job_title="CTO", message="想了解续费预测模块，团队 30 人。"
        ),
    )
    assert response.status_code == 303
    lead = db.session.scalar(select(Lead).where(Lead.email == "wang.fang@xinghe.cn"))
    reasons = dict(db.session.execute(select(ScoreChange.reason, ScoreChange.points)).all())
    # docs/INSIGHTS.md's defaults: demo request 30, decision maker 15, manager title 10.
    assert reasons == {"预约演示": 30, "决策者": 15, "管理岗位": 10}
    assert lead.score == 55
    assert lead.stage == "mql"
    handoff = db.session.scalar(select(Handoff).where(Handoff.lead_id == lead.id))
    assert handoff.owner_id == sales.id


def test_a_fresh_site_has_the_default_rules_to_edit_and_the_five_tiers(fresh_app):
    assert db.session.scalar(select(func.count()).select_from(ScoreRule).where(ScoreRule.active)) == 9
    assert db.session.scalars(select(Tier.route).order_by(Tier.level)).all() == [
        "owner",
        "owner",
        "ticket",
        "ticket",
        "ticket",
    ]


def test_upgrading_a_site_with_its_own_rules_adds_none(tmp_path, smtp_server):
    """The defaults go only into an empty table: a site whose marketers wrote their own
    rules before this migration keeps exactly those."""
    application = create_app(settings_for_tests(f"sqlite:///{tmp_path}/old.db", tmp_path, smtp_server.port))
    runner = application.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "6c2e9a4d1f70-1"]).exit_code == 0
    with application.app_context():
        db.session.add(ScoreRule(name="我们的规则", kind="action", event_kind="download", points=7))
        db.session.commit()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert db.session.scalars(select(ScoreRule.name)).all() == ["我们的规则"]
        assert db.session.scalar(select(func.count()).select_from(Tier)) == 5
        db.session.remove()
        db.engine.dispose()
