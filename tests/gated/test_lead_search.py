"""The lead list's text search: a substring of email, name or company, any case, answered
from an index (pg_trgm on PostgreSQL, an FTS5 trigram table on SQLite) that follows every
insert, update and delete of a lead."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, text

from app import create_app
from core.extensions import db
from gated import listing, textsearch
from gated.models import Lead
from tests.conftest import TEST_SECRET


def found(q: str) -> list[str]:
    query = listing.lead_query(listing.LeadFilters(q=q))
    return sorted(lead.email for lead in db.session.scalars(query))


@pytest.fixture
def leads(app):
    for email, name, company in [
        ("wang.fang@xinghe-tech.cn", "王芳", "星河科技有限公司"),
        ("j.doe@Acme.example", "John Doe", "ACME Corporation"),
        ("a_b@under.example", "", ""),
        ("axb@under.example", "", "100% Organic"),
        ("sam@globex.example", "Sam", "Globex"),
    ]:
        db.session.add(Lead(email=email, name=name, company=company))
    db.session.commit()


def test_finds_a_substring_of_email_name_or_company_in_any_case(leads):
    assert found("acme") == ["j.doe@Acme.example"]
    assert found("DOE") == ["j.doe@Acme.example"]
    assert found("corporation") == ["j.doe@Acme.example"]
    assert found("xinghe") == ["wang.fang@xinghe-tech.cn"]
    assert found("星河科技") == ["wang.fang@xinghe-tech.cn"]
    assert found("nobody-here") == []


def test_short_text_is_still_found_without_the_index(leads):
    assert found("王芳") == ["wang.fang@xinghe-tech.cn"]
    assert found("星河") == ["wang.fang@xinghe-tech.cn"]
    assert found("Sa") == ["sam@globex.example"]


def test_wildcards_typed_in_the_box_match_themselves(leads):
    assert found("a_b") == ["a_b@under.example"]
    assert found("100%") == ["axb@under.example"]
    assert found("%") == ["axb@under.example"]
    assert found('"quoted" text') == []


def test_the_index_follows_updates_and_deletes(leads):
    lead = db.session.scalar(db.select(Lead).where(Lead.email == "sam@globex.example"))
    lead.company = "Initech Holdings"
    db.session.commit()
    assert found("globex") == ["sam@globex.example"]  # still in the email
    assert found("initech") == ["sam@globex.example"]
    assert found("holdings") == ["sam@globex.example"]
    db.session.delete(lead)
    db.session.commit()
    assert found("initech") == []
    db.session.add(Lead(email="new@elsewhere.example", company="Umbrella"))
    db.session.commit()
    assert found("initech") == [] and found("umbrella") == ["new@elsewhere.example"]


def test_the_search_is_answered_from_the_index(leads):
    statement = listing.lead_query(listing.LeadFilters(q="acme"))
    compiled = statement.compile(dialect=db.engine.dialect)
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        # A five-row table is cheaper to read whole or in order; forbid both to see
        # which index the planner can use for the search itself.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + compiled.string, compiled.params)
        plan = "\n".join(row[0] for row in rows)
        assert "ix_leads_email_trgm" in plan and "ix_leads_company_trgm" in plan, plan
    else:
        rows = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + compiled.string,
            tuple(compiled.params[name] for name in compiled.positiontup),
        )
        plan = " ".join(row[-1] for row in rows)
        assert "leads_search VIRTUAL TABLE" in plan, plan
    db.session.rollback()


def add_lead_as_the_schema_was(**values) -> None:
    """A lead written with the columns the database has at an older revision (the model's
    newer columns are not there yet), each other column at the model's default."""
    table = Table("leads", MetaData(), autoload_with=db.session.connection())
    row = {}
    for column in table.columns:
        default = Lead.__table__.c[column.name].default
        if column.name in values:
            row[column.name] = values[column.name]
        elif default is not None:
            row[column.name] = default.arg(None) if default.is_callable else default.arg
    db.session.execute(table.insert().values(row))


def test_the_migration_indexes_leads_already_there(tmp_path):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"}
    )
    with app.app_context():
        upgrade(revision="a9b8c7d6e5f4")
        add_lead_as_the_schema_was(email="early@before.example", name="Early Bird", company="Preexisting Ltd")
        db.session.commit()
        upgrade()
        assert found("preexisting") == ["early@before.example"]
        triggers = db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
        assert sorted(triggers) == sorted(textsearch.TRIGGERS)

        # Rolled back, leads are still written (no trigger is left pointing at the
        # dropped table); upgraded again, the index holds them all.
        downgrade(revision="c3d4e5f6a7b8")
        add_lead_as_the_schema_was(email="between@versions.example", company="Interim Preexisting")
        db.session.commit()
        upgrade()
        assert found("preexisting") == ["between@versions.example", "early@before.example"]
        db.session.remove()
        db.engine.dispose()
