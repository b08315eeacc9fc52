"""Page quality: Lighthouse (mobile profile) on a help article and a white-paper landing
page, and the Nu HTML validator on the home page, that article and that landing page, all
served by gunicorn from a throw-away instance with the demo loaded.

    .venv/bin/python bench/page_quality.py [--article /help/kuaisu-rumen]
                                           [--landing /library/saas-renewal]

Aim (issue: page quality): performance, accessibility, best practices and SEO each at
least 95; no validator error. Lighthouse and vnu-jar live in their own npm project,
`bench/quality/` (installed here with `npm ci` when missing). Needs Debian's chromium and
Java 17.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import flask, gunicorn, instance_env, temp_instance  # noqa: E402

QUALITY = Path(__file__).resolve().parent / "quality"
LIGHTHOUSE = QUALITY / "node_modules" / ".bin" / "lighthouse"
VNU = QUALITY / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
AIM = 95
LIGHTHOUSE_TIMEOUT = 180
VNU_TIMEOUT = 120


def install() -> None:
    if LIGHTHOUSE.exists() and VNU.exists():
        return
    print("installing lighthouse and vnu-jar (npm ci in bench/quality)", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=QUALITY, check=True, timeout=600)


def lighthouse(url: str, folder: Path) -> dict:
    """Lighthouse's report for `url` (mobile form factor, the default)."""
    report = folder / "lighthouse.json"
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    result = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=LIGHTHOUSE_TIMEOUT,
    )
    if result.returncode != 0 or not report.exists():
        raise RuntimeError(f"lighthouse {url} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(report.read_text())


def failing_audits(report: dict, category: str) -> list[str]:
    """The audits of `category` that cost points, as 'id (score)'."""
    audits = report["audits"]
    names = []
    for ref in report["categories"][category]["auditRefs"]:
        if ref.get("weight", 0) <= 0:
            continue
        audit = audits[ref["id"]]
        score = audit.get("score")
        if score is not None and score < 1:
            names.append(f"{ref['id']} ({score:.2f})")
    return names


def validate(files: list[Path]) -> tuple[int, str]:
    """Run the Nu validator once over every file; returns (exit code, messages)."""
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=VNU_TIMEOUT,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--article", default="/help/kuaisu-rumen")
    parser.add_argument("--landing", default="/library/saas-renewal")
    args = parser.parse_args()
    install()
    below = 0
    with temp_instance() as folder, tempfile.TemporaryDirectory(prefix="lodestar-quality-") as out:
        out = Path(out)
        env = instance_env(folder)
        flask(env, "db", "upgrade")
        flask(env, "demo", "load")
        with gunicorn("wsgi:app", env, probe="/healthz") as base:
            print(f"{'page':<24} " + " ".join(f"{c:>15}" for c in CATEGORIES))
            for name, path in (("help article", args.article), ("white-paper landing", args.landing)):
                report = lighthouse(base + path, out)
                cells = []
                for category in CATEGORIES:
                    score = round(report["categories"][category]["score"] * 100)
                    ok = score >= AIM
                    below += not ok
                    cells.append(f"{score:>3} {'ok' if ok else 'LOW':>3}".rjust(15))
                print(f"{name:<24} " + " ".join(cells), flush=True)
                for category in CATEGORIES:
                    missing = failing_audits(report, category)
                    if missing:
                        print(f"    {category}: {', '.join(missing)}")
            files = []
            for name, path in (("home", "/"), ("article", args.article), ("landing", args.landing)):
                with urllib.request.urlopen(base + path, timeout=10) as response:
                    target = out / f"{name}.html"
                    target.write_bytes(response.read())
                    files.append(target)
            code, messages = validate(files)
    print()
    print(f"Nu validator on home, {args.article}, {args.landing}: {'valid' if code == 0 else 'errors'}")
    if messages:
        print(messages)
    print(f"aim {AIM}: {'met' if below == 0 else f'{below} score(s) below'}")
    return 0 if below == 0 and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
