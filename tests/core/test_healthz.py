"""/healthz reports the database and the migrations."""

from core.hooks import add_health_check


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["dialect"] in ("sqlite", "postgresql")
    # The test database is built with create_all, not migrations: reported, not hidden.
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["head"]
    assert response.status_code == 503
    assert body["status"] == "fail"


def test_healthz_runs_package_checks_and_survives_a_failing_one(make_app):
    app = make_app()
    add_health_check(app, "queue", lambda: {"ok": True, "due": 0})

    def broken():
        raise RuntimeError("index folder missing")

    add_health_check(app, "index", broken)
    body = app.test_client().get("/healthz").get_json()
    assert body["checks"]["queue"] == {"ok": True, "due": 0}
    assert body["checks"]["index"] == {"ok": False, "error": "index folder missing"}
