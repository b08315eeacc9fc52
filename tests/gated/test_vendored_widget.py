"""The form widget's files under static/vendor/altcha/ are the npm package's pinned in
package.json (the site never loads them from a CDN): after an upgrade they are copied
again, or this fails."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "node_modules" / "altcha"
COPIES = {
    "altcha.min.js": "dist/external/altcha.min.js",
    "altcha.css": "dist/external/altcha.css",
    "pbkdf2.js": "dist/workers/pbkdf2.js",
    "zh-cn.js": "dist/i18n/zh-cn.js",
    "LICENSE.txt": "LICENSE.txt",
}


def test_the_vendored_widget_is_the_pinned_package():
    if not PACKAGE.is_dir():
        pytest.skip(
            "node_modules/altcha not installed: run `npm ci` (or `make test`, which does it when npm exists)"
        )
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["altcha"]
    assert json.loads((PACKAGE / "package.json").read_text())["version"] == pinned
    for name, source in COPIES.items():
        assert (ROOT / "static/vendor/altcha" / name).read_bytes() == (PACKAGE / source).read_bytes(), name
