"""Error pages in the site's look; JSON under /api/; a crash is a 500 page, not a trace."""

import pytest
from flask import abort


@pytest.fixture(scope="module")
def error_app(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom/<int:code>")
    def boom(code):
        abort(code)

    @app.get("/crash")
    def crash():
        raise RuntimeError("unexpected")

    @app.get("/api/boom")
    def api_boom():
        abort(404)

    return app


@pytest.mark.parametrize("code", [400, 403, 404, 413, 422, 429, 500])
def test_error_pages_use_the_site_layout(error_app, code):
    response = error_app.test_client().get(f"/boom/{code}", headers={"Accept-Language": "en"})
    assert response.status_code == code
    body = response.get_data(as_text=True)
    assert 'class="site-header"' in body
    assert f'<p class="error-code">{code}</p>' in body


def test_unhandled_exception_is_a_500_page(error_app):
    response = error_app.test_client().get("/crash")
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert 'class="error-code"' in response.get_data(as_text=True)


def test_api_errors_are_json(error_app):
    response = error_app.test_client().get("/api/boom")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_missing_csrf_token_is_a_400_page(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    assert 'class="error-code"' in response.get_data(as_text=True)


def test_a_database_that_does_not_answer_is_a_503_that_says_nothing_was_saved(make_app):
    """While PostgreSQL restarts a form post cannot be stored: the visitor is told so,
    with Retry-After, never a 500 (bench/chaos.py measures it against a real restart)."""
    from tests.conftest import free_port
    from tests.factories import form_data

    down = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone")
    client = down.test_client()
    client.set_cookie("lang", "en")
    with down.app_context():
        data = form_data(message="想看演示")
    response = client.post("/demo-request", data=data)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "nothing was saved" in response.get_data(as_text=True)
    assert client.get("/blog/", headers={"Accept": "application/json"}).status_code == 503
