"""The migrations build the whole schema on an empty SQLite and an empty PostgreSQL
database, and match the models (no drift)."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from app import create_app
from core.extensions import db
from core.schema import include_object
from tests.conftest import TEST_SECRET, fresh_postgres_url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_on_empty_database_matches_models(backend, tmp_path):
    url = f"sqlite:///{tmp_path}/m.db" if backend == "sqlite" else fresh_postgres_url("migrations")
    app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            options = {"include_object": include_object(db.metadata, connection.dialect.name)}
            diff = compare_metadata(MigrationContext.configure(connection, opts=options), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        body = app.test_client().get("/healthz").get_json()
        assert body["checks"]["migrations"]["ok"] is True
        db.session.remove()
        db.engine.dispose()
