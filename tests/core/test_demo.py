"""`flask demo load` twice leaves one copy of everything."""

from sqlalchemy import func, select

from accounts.models import User
from core.extensions import db


def test_demo_loads_twice_without_duplicates(runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "admin@lodestar.example" in first.output
    counts = {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    again = {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
    assert again == counts
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "admin")) == 1
