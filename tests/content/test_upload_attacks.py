"""Hostile uploads through the editor's upload endpoint and the white paper's gated file:
a spoofed type, path traversal in the name, double extensions, a polyglot, an oversized
file. Each is refused or stored under a name of ours and served so that no browser runs
it: an image type only for image names, with nosniff; anything else as an attachment of
a type that is never rendered."""

import io
import re
from pathlib import Path

import pytest

from tests.conftest import sign_in_session
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("app")

SCRIPT_HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SCRIPT_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
# A GIF header that is also valid JavaScript (the classic GIF/JS polyglot).
POLYGLOT_GIF = b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00,*/=1;alert(document.domain);//" + b"\x00" * 16
INLINE = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"}


def upload(client, content: bytes, filename: str):
    return client.post(
        "/admin/content/uploads",
        data={"file": (io.BytesIO(content), filename)},
        headers={"Accept": "application/json"},
    )


def served(client, url):
    response = client.get(url)
    response.close()
    return response


def assert_never_rendered(response):
    """Served so that a browser cannot run it on our origin."""
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    if response.mimetype in INLINE:
        assert "attachment" not in response.headers.get("Content-Disposition", "")
    else:
        assert response.mimetype == "application/octet-stream" or response.mimetype in {"application/pdf"}
        assert response.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    "content, filename, mimetype",
    [
        (SCRIPT_HTML, "chart.png", "image/png"),  # HTML named as an image
        (SCRIPT_SVG, "logo.png", "image/png"),  # SVG named as an image
        (SCRIPT_SVG, "logo.svg", "application/octet-stream"),
        (SCRIPT_HTML, "page.html", "application/octet-stream"),
        (SCRIPT_HTML, "report.pdf.html", "application/octet-stream"),  # double extensions
        (SCRIPT_HTML, "report.html.png", "image/png"),
        (SCRIPT_HTML, "shell.php.jpg", "image/jpeg"),
        (SCRIPT_HTML, "page.HTM", "application/octet-stream"),
        (SCRIPT_HTML, "page.xhtml", "application/octet-stream"),
        (SCRIPT_HTML, "noext", "application/octet-stream"),
        (POLYGLOT_GIF, "pixel.gif", "image/gif"),  # a polyglot
        (POLYGLOT_GIF, "pixel.js", "application/octet-stream"),
    ],
)
def test_a_spoofed_or_scripted_file_is_served_so_no_browser_runs_it(
    login_as, client, content, filename, mimetype
):
    editor = login_as("editor")
    response = upload(editor, content, filename)
    assert response.status_code == 201
    url = response.get_json()["url"]
    answer = served(client, url)
    assert answer.status_code == 200 and answer.mimetype == mimetype
    assert_never_rendered(answer)


@pytest.mark.parametrize(
    "filename",
    [
        "../../../../etc/passwd",
        "..\\..\\..\\windows\\win.ini",
        "/etc/passwd.png",
        "../static/js/app.js",
        "....//....//x.png",
        "%2e%2e%2fsecret.png",
        "x\x00.html.png",
        "CON.png",
        ".htaccess",
        "a" * 300 + ".png",
    ],
)
def test_a_path_in_the_name_stays_a_name_inside_the_upload_folder(app, login_as, client, filename):
    editor = login_as("editor")
    folder = Path(app.config["UPLOAD_DIR"]).resolve()
    before = set(folder.rglob("*")) if folder.exists() else set()
    response = upload(editor, b"\x89PNG\r\n\x1a\n" + b"0" * 64, filename)
    assert response.status_code == 201
    url = response.get_json()["url"]
    assert re.fullmatch(r"/uploads/[0-9a-f]{16}-[A-Za-z0-9_.-]{1,120}", url), url
    created = set(folder.rglob("*")) - before
    assert [path.parent for path in created] == [folder]
    assert served(client, url).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/uploads/..%2F..%2Fapp.py", "/uploads/%2e%2e", "/uploads/0123456789abcdef-..", "/uploads/.env"],
)
def test_a_path_in_the_url_is_not_found(client, path):
    assert client.get(path).status_code == 404


def test_an_oversized_upload_is_refused_and_leaves_no_file(make_app):
    small = make_app(CONTENT_UPLOAD_MAX_BYTES=1000)
    with small.app_context():
        client = small.test_client()
        sign_in_session(client, UserFactory(role="editor"))
        folder = Path(small.config["UPLOAD_DIR"])
        assert upload(client, b"\x89PNG" + b"0" * 5000, "big.png").status_code == 413
    # A client whose Content-Length lies is stopped while the file is copied.
    from werkzeug.datastructures import FileStorage

    from content import uploads

    with pytest.raises(uploads.UploadError) as refused:
        uploads.save(FileStorage(io.BytesIO(b"0" * 3000), "big.png"), folder, max_bytes=1000)
    assert refused.value.status == 413
    with small.app_context():
        assert not folder.exists() or list(folder.iterdir()) == []


def test_a_gated_file_is_always_an_attachment_whatever_its_name(app, login_as, client):
    """The white paper's own file is served by /download as an attachment: an HTML file
    uploaded as a white paper downloads, it does not open on our origin."""
    from content.models import Article
    from core.extensions import db
    from gated.downloads import make_download_url
    from tests.content.helpers import ARTICLE_FORM as FORM
    from tests.factories import form_data

    admin = login_as("admin")
    data = {**FORM, "kind": "whitepaper", "sequence": "whitepaper-followup", "action": "publish"}
    data["gated_file"] = (io.BytesIO(SCRIPT_HTML), "guide.html")
    assert admin.post("/admin/content/new", data=data).status_code == 303
    article = db.session.scalar(db.select(Article))
    assert client.post(f"/library/{article.slug}", data=form_data()).status_code == 303
    from gated.models import Lead, Submission

    lead = db.session.scalar(db.select(Lead))
    asset_id = db.session.scalar(db.select(Submission.asset_id))
    if asset_id is None:
        pytest.skip("the asset is attached by the worker on this path")
    answer = client.get(make_download_url(lead.id, asset_id, external=False))
    answer.close()
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith("attachment")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
