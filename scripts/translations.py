"""Extract UI strings and update each package's Chinese (zh) catalog.

    .venv/bin/python scripts/translations.py            # extract + update every catalog
    .venv/bin/python scripts/translations.py content    # one package

Core strings (core/, templates/, app.py) live in translations/; each package's in
<pkg>/translations/. New strings arrive untranslated: fill their msgstr in the .po.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYBABEL = str(Path(sys.executable).parent / "pybabel")
CATALOGS = {
    "core": (ROOT / "translations", ["core", "templates", "app.py"]),
    "accounts": (ROOT / "accounts" / "translations", ["accounts"]),
    "content": (ROOT / "content" / "translations", ["content"]),
    "gated": (ROOT / "gated" / "translations", ["gated"]),
    "nurture": (ROOT / "nurture" / "translations", ["nurture"]),
    "insights": (ROOT / "insights" / "translations", ["insights"]),
    "assistant": (ROOT / "assistant" / "translations", ["assistant"]),
    "campaigns": (ROOT / "campaigns" / "translations", ["campaigns"]),
}


def update(name: str) -> None:
    folder, sources = CATALOGS[name]
    sources = [str(ROOT / s) for s in sources if (ROOT / s).exists()]
    pot = folder / "messages.pot"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            PYBABEL,
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(pot),
            *sources,
        ],
        check=True,
        capture_output=True,
    )
    po = folder / "zh" / "LC_MESSAGES" / "messages.po"
    command = "update" if po.exists() else "init"
    subprocess.run(
        [PYBABEL, command, "-i", str(pot), "-d", str(folder), "-l", "zh", "--no-wrap"]
        + (["--ignore-obsolete"] if command == "update" else []),
        check=True,
        capture_output=True,
    )
    pot.unlink()
    print(f"{name}: {po.relative_to(ROOT)}")


if __name__ == "__main__":
    for catalog in sys.argv[1:] or CATALOGS:
        update(catalog)
