"""Page quality: Lighthouse (mobile profile), axe-core and the Nu HTML validator on the
pages listed in bench/quality/pages.toml (home, help article, white-paper landing, search,
the assistant; the wave-2 pages join the list when they exist), all served by gunicorn
from a throw-away instance with the demo loaded.

    .venv/bin/python bench/page_quality.py [--pages home,search] [--smoke]

Aim (issues 8 and 26): performance, accessibility, best practices and SEO each at least
95 on mobile; no validator error; no serious or critical axe violation.

Lighthouse, axe-core and vnu-jar are pinned in their own npm project, `bench/quality/`
(installed here with `npm ci` when missing or when its lock file changed), so the test
suite never installs them. Needs Debian's chromium (CHROME_PATH to use another), Java for
the validator and Playwright (requirements-dev.txt) to drive the browser for axe;
`make bench-deps` installs the Debian packages.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import demo_site, flask, gunicorn, require, summary, temp_instance  # noqa: E402

QUALITY = Path(__file__).resolve().parent / "quality"
PAGES = QUALITY / "pages.toml"
MODULES = QUALITY / "node_modules"
INSTALLED = MODULES / ".package-lock.json"  # npm writes it on every install
LIGHTHOUSE = MODULES / ".bin" / "lighthouse"
VNU = MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = MODULES / "axe-core" / "axe.min.js"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
# Root in CI and in containers: Chromium's sandbox needs user namespaces it does not get there.
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
AIM = 95
LIGHTHOUSE_TIMEOUT = 180
VNU_TIMEOUT = 120


def page_list(names: str | None, smoke: bool) -> tuple[list[dict], list[dict]]:
    """The pages to check and the listed pages not built yet (no path)."""
    pages = tomllib.loads(PAGES.read_text(encoding="utf-8"))["page"]
    if names:
        wanted = [name.strip() for name in names.split(",")]
        unknown = set(wanted) - {page["name"] for page in pages}
        if unknown:
            raise SystemExit(f"no such page in {PAGES.name}: {', '.join(sorted(unknown))}")
        pages = [page for page in pages if page["name"] in wanted]
    elif smoke:
        pages = [page for page in pages if page.get("smoke")]
    built = [page for page in pages if page["path"] or page.get("command")]
    return built, [page for page in pages if page not in built]


def resolve_paths(env: dict, pages: list[dict]) -> None:
    """Fill in the path of a page whose address only the instance knows (a signed link):
    its `command` is a `flask` command that prints the page's URL."""
    for page in pages:
        if page.get("command"):
            url = flask(env, *page["command"].split()).strip().splitlines()[-1]
            parts = urllib.parse.urlsplit(url)
            page["path"] = parts.path + (f"?{parts.query}" if parts.query else "")


def address(base: str, path: str) -> str:
    """The page's URL, its Chinese query words percent-encoded."""
    return base + urllib.parse.quote(path, safe="/?=&%")


def install() -> None:
    """`npm ci` in bench/quality when its packages are missing or its lock file changed;
    npm ci refuses a lock file out of step with package.json, so a stale lock fails here."""
    require("npm", "npm")
    fresh = (
        INSTALLED.exists() and INSTALLED.stat().st_mtime >= (QUALITY / "package-lock.json").stat().st_mtime
    )
    if fresh and LIGHTHOUSE.exists() and VNU.exists() and AXE.exists():
        return
    print("installing Lighthouse, axe-core and vnu-jar (npm ci in bench/quality)", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=QUALITY, check=True, timeout=600)


# Lighthouse's runtime errors whose message asks to run it again: a trace or a paint the
# browser did not record this time (seen in CI on Debian's Chromium, one page in a run).
TRANSIENT = ("NO_NAVSTART", "NO_FCP", "PROTOCOL_TIMEOUT", "NO_TRACING_STARTED")
ATTEMPTS = 3


def lighthouse(url: str, report: Path) -> dict:
    """Lighthouse's report for `url` (mobile form factor, the default), run again up to
    ATTEMPTS times when Lighthouse itself says the run was spoiled and should be repeated."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return lighthouse_once(url, report)
        except RuntimeError as error:
            if attempt == ATTEMPTS or not any(code in str(error) for code in TRANSIENT):
                raise
            print(f"lighthouse {url}: {str(error).strip().splitlines()[-1]}; run {attempt + 1}", flush=True)
    raise AssertionError("unreachable")


def lighthouse_once(url: str, report: Path) -> dict:
    """One Lighthouse run; RuntimeError when it fails or reports a runtime error."""
    report.unlink(missing_ok=True)
    env = dict(os.environ, CHROME_PATH=CHROME)
    result = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={' '.join(CHROME_FLAGS)}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=LIGHTHOUSE_TIMEOUT,
    )
    if result.returncode != 0 or not report.exists():
        raise RuntimeError(f"lighthouse {url} failed:\n{result.stdout}\n{result.stderr}")
    data = json.loads(report.read_text())
    if data.get("runtimeError"):
        raise RuntimeError(f"lighthouse {url}: {data['runtimeError']}")
    return data


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


def axe(base: str, pages: list[dict]) -> dict[str, list[str]]:
    """axe-core's serious and critical violations per page, on a phone-sized Chromium
    (Lighthouse's form factor). The site's CSP blocks an injected script tag, so axe's
    text is evaluated through the DevTools protocol, which the CSP does not govern."""
    from playwright.sync_api import sync_playwright

    source = AXE.read_text(encoding="utf-8")
    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROME, args=CHROME_FLAGS[1:])
        page = browser.new_page(viewport={"width": 412, "height": 823}, is_mobile=True)
        for listed in pages:
            response = page.goto(address(base, listed["path"]))
            if not response.ok:
                raise RuntimeError(f"{listed['path']}: HTTP {response.status}")
            page.evaluate(source)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            found[listed["name"]] = [
                f"[{violation['impact']}] {violation['id']}: "
                + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
                for violation in result["violations"]
                if violation["impact"] in ("serious", "critical")
            ]
        browser.close()
    return found


def verdict(page: dict, category: str, score: int) -> str:
    """ok or LOW against the aim; "-" for SEO on a page kept out of search engines on purpose."""
    if category == "seo" and page.get("noindex"):
        return "-"
    return "ok" if score >= AIM else "LOW"


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
    parser.add_argument("--pages", help=f"page names from {PAGES.name}, comma-separated (default: all)")
    parser.add_argument("--smoke", action="store_true", help="only the page(s) marked smoke")
    args = parser.parse_args()
    pages, planned = page_list(args.pages, args.smoke)
    if not (Path(CHROME).exists() or shutil.which(CHROME)):
        require("chromium", "chromium")
    require("java", "default-jre-headless")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print("Playwright is not installed: .venv/bin/pip install -r requirements-dev.txt", file=sys.stderr)
        return 2
    install()
    results = {}
    with temp_instance() as folder:
        out = folder / "quality"
        out.mkdir()
        env = demo_site(folder)
        resolve_paths(env, pages)
        with gunicorn("wsgi:app", env, probe="/healthz") as base:
            files = []
            for number, listed in enumerate(pages):
                report = lighthouse(address(base, listed["path"]), out / f"lighthouse-{number}.json")
                scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
                lost = {c: failing_audits(report, c) for c in CATEGORIES if scores[c] < 100}
                results[listed["name"]] = {
                    "scores": scores,
                    "lost": lost,
                    "lighthouse": report["lighthouseVersion"],
                }
                with urllib.request.urlopen(address(base, listed["path"]), timeout=10) as response:
                    files.append(out / f"page-{number}.html")
                    files[-1].write_bytes(response.read())
            violations = axe(base, pages)
            code, messages = validate(files)
    chromium = subprocess.run([CHROME, "--version"], capture_output=True, text=True).stdout.strip()
    version = next(iter(results.values()))["lighthouse"] if results else "?"
    print(f"Lighthouse {version} (mobile), {chromium}, axe-core, Nu validator (vnu-jar)\n")
    print(f"{'page':<22} " + " ".join(f"{c:>15}" for c in CATEGORIES) + "   axe serious/critical")
    for listed in pages:
        result = results[listed["name"]]
        cells = [f"{result['scores'][c]:>3} {verdict(listed, c, result['scores'][c]):>3}" for c in CATEGORIES]
        print(
            f"{listed['name']:<22} "
            + " ".join(cell.rjust(15) for cell in cells)
            + f"   {len(violations[listed['name']])}"
        )
        for category, audits in result["lost"].items():
            print(f"    {category}: {', '.join(audits) or 'rounding'}")
        for line in violations[listed["name"]]:
            print(f"    axe {line}")
    for listed in planned:
        print(f"{listed['name']:<22} not built yet (no path in {PAGES.name})")
    print(
        f"\nNu validator on {', '.join(page['path'] for page in pages)}: {'valid' if code == 0 else 'errors'}"
    )
    if messages:
        print(messages)
    below = 0
    for number, listed in enumerate(pages):
        result = results[listed["name"]]
        # One validator call for all pages: a page is valid when none of the messages names its file.
        valid = code == 0 or f"page-{number}.html" not in messages
        held = [c for c in CATEGORIES if not (c == "seo" and listed.get("noindex"))]
        holds = min(result["scores"][c] for c in held) >= AIM and not violations[listed["name"]] and valid
        below += not holds
        summary(
            f"page quality: {listed['name']} `{listed['path']}`",
            "Lighthouse "
            + " / ".join(str(result["scores"][c]) for c in CATEGORIES)
            + f"; axe {len(violations[listed['name']])} serious or critical; Nu {'valid' if valid else 'errors'}",
            ceiling=f"Lighthouse {result['lighthouse']}, mobile; {chromium}",
            aim="each ≥ 95"
            + (" (SEO not held: noindex on purpose)" if listed.get("noindex") else "")
            + ", no serious/critical axe violation, no validator error",
            holds=holds,
        )
    print(f"aim: {'met' if below == 0 else f'{below} page(s) below'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
