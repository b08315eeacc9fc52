"""The migration that keys leads by email or mobile number keeps every lead, submission
and search entry of a filled database, on SQLite (where it rebuilds the table) and on
PostgreSQL, and leaves a shared number on the oldest lead only."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app import create_app
from core.extensions import db
from tests.conftest import TEST_SECRET, fresh_postgres_url

BEFORE = "e5f6a7b8c9d0"
NUMBER = "+8613800138000"


def insert_lead(connection, lead_id: int, email: str, phone: str) -> None:
    """A lead row as the schema of either revision takes it."""
    connection.execute(
        text(
            "INSERT INTO leads (id, email, name, company, job_title, phone, role, stage, score, source,"
            " marketing_consent, consent_version, created_at, updated_at, first_landing_page,"
            " first_referrer, first_utm_source, first_utm_medium, first_utm_campaign, first_utm_term,"
            " first_utm_content, first_channel, last_landing_page, last_referrer, last_utm_source,"
            " last_utm_medium, last_utm_campaign, last_utm_term, last_utm_content, last_channel)"
            " VALUES (:id, :email, '王芳', '星河软件', '', :phone, '', 'new', 0, '', false, '',"
            " '2026-12-01', '2026-12-01', '', '', '', '', '', '', '', 'direct', '', '', '', '', '', '',"
            " '', 'direct')"
        ),
        {"id": lead_id, "email": email, "phone": phone},
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_keeps_leads_submissions_and_search(backend, tmp_path):
    url = f"sqlite:///{tmp_path}/m.db" if backend == "sqlite" else fresh_postgres_url("identity")
    app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            for lead_id, email, phone in ((1, "wang@example.cn", NUMBER), (2, "li@example.cn", NUMBER)):
                insert_lead(connection, lead_id, email, phone)
                connection.execute(
                    text(
                        "INSERT INTO submissions (lead_id, form, fields, proposed_fields, utm, referrer,"
                        " landing_page, channel, created_at) VALUES (:id, 'whitepaper', '{}', '[]', '{}', '', '',"
                        " 'direct', '2026-12-01')"
                    ),
                    {"id": lead_id},
                )
        upgrade()
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM submissions")).scalar() == 2
            phones = connection.execute(text("SELECT id, phone FROM leads ORDER BY id")).all()
            assert [tuple(row) for row in phones] == [(1, NUMBER), (2, "")]
            # A phone-only lead beside them, and a second one: "" repeats, a number does not.
            for lead_id, phone in ((3, "+8613900139000"), (4, "+8613700137000")):
                insert_lead(connection, lead_id, "", phone)
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text("UPDATE leads SET phone = :n WHERE id = 2"), {"n": NUMBER})
        if backend == "sqlite":
            with db.engine.begin() as connection:
                found = connection.execute(
                    text("SELECT rowid FROM leads_search WHERE leads_search MATCH '星河软'")
                ).all()
                # Rows before the rebuild and rows after it (the triggers are back).
                assert sorted(row[0] for row in found) == [1, 2, 3, 4]
        db.session.remove()
        db.engine.dispose()
