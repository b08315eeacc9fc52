"""The front-end libraries under static/vendor/ are the npm packages pinned in
package.json (the site never loads them from a CDN, and `npm ci` rebuilds them): after an
upgrade they are copied again, or this fails."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# package -> {file under static/vendor/<package>/: its source in node_modules/<package>/}
COPIES = {
    # The form challenge widget: the build without bundled workers, its worker and words.
    "altcha": {
        "altcha.min.js": "dist/external/altcha.min.js",
        "altcha.css": "dist/external/altcha.css",
        "pbkdf2.js": "dist/workers/pbkdf2.js",
        "zh-cn.js": "dist/i18n/zh-cn.js",
        "LICENSE.txt": "LICENSE.txt",
    },
    # The charts (templates/_chart.html, static/js/charts.js).
    "uplot": {
        "uPlot.iife.min.js": "dist/uPlot.iife.min.js",
        "uPlot.min.css": "dist/uPlot.min.css",
        "LICENSE.txt": "LICENSE",
    },
}


@pytest.mark.parametrize("package", sorted(COPIES))
def test_the_vendored_files_are_the_pinned_package(package):
    installed = ROOT / "node_modules" / package
    if not installed.is_dir():
        pytest.skip(
            f"node_modules/{package} not installed: run `npm ci` (or `make test`, which does it when npm exists)"
        )
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"][package]
    assert json.loads((installed / "package.json").read_text())["version"] == pinned
    for name, source in COPIES[package].items():
        assert (ROOT / "static/vendor" / package / name).read_bytes() == (installed / source).read_bytes(), (
            name
        )
