"""Side by side: one worker with this checkout's nurture.delivery against another revision's.

    python bench/sending_ab.py REV [--pairs 4] [--count 2000] [--database URL]

A change of a few points in one worker's share of raw smtplib cannot be seen in single runs
of bench/sending.py on a shared or drifting machine (its ceiling alone moves by 20 %). This
runs the two variants alternately in one process, against one aiosmtpd sink in its own
process, measuring raw smtplib around each run, and prints each run's ratio and the means.
REV's delivery.py, or its nurture/delivery/ package (with its recorder.py and wire.py, once it
has them) is loaded from git as modules of their own; everything else (models, rendering, the rate limiter) is this
checkout's, so REV must be close enough to run with it.
"""

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sending  # noqa: E402 - bench/sending.py, next to this file

# The modules delivery.py was first split into, and what it takes from each: REV's own are
# loaded too (when REV has them), so a change to any of them shows in the comparison.
SPLIT_MODULES = {"recorder": ("Recorder",), "wire": None}
# Since nurture.delivery became a package, what it imports of these by name.
SENDING_MODULES = ("nurture.recorder", "nurture.wire")


def revision_source(rev: str, path: str) -> str | None:
    found = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], capture_output=True, text=True)
    return found.stdout if found.returncode == 0 else None


def load_source(name: str, source: str, tmp: str):
    path = Path(tmp) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_revision(rev: str, tmp: str):
    source = revision_source(rev, "nurture/delivery.py")
    if source is None:
        return load_package_revision(rev, tmp)
    module = load_source("delivery_at_revision", source, tmp)
    for name, taken in SPLIT_MODULES.items():
        split = revision_source(rev, f"nurture/{name}.py")
        if split is None:
            continue  # REV from before the split: delivery.py holds it all
        own = load_source(f"{name}_at_revision", split, tmp)
        # delivery.py looks these names up when it runs, so rebinding them here is enough.
        for attribute in taken or ():
            setattr(module, attribute, getattr(own, attribute))
        if taken is None:
            setattr(module, name, own)
    return module


def load_package_revision(rev: str, tmp: str):
    """REV's nurture/delivery/ package, with REV's recorder and wire: each is loaded
    under its own name while this checkout's are set aside, so REV's modules import
    each other, then this checkout's come back."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", rev, "nurture/delivery/"],
        capture_output=True,
        text=True,
    )
    files = [path for path in listed.stdout.split() if path.endswith(".py")]
    if not files:
        sys.exit(f"{rev} has no nurture/delivery.py nor nurture/delivery/")
    folder = Path(tmp) / "revision" / "nurture" / "delivery"
    folder.mkdir(parents=True)
    for path in files:
        (folder / Path(path).name).write_text(revision_source(rev, path))
    import nurture
    import nurture.delivery  # noqa: F401 - this checkout's, set aside below

    names = [name for name in sys.modules if name.startswith("nurture.delivery")] + list(SENDING_MODULES)
    own = {name: sys.modules.pop(name, None) for name in names}
    # `from nurture import wire` takes the package's attribute when it has one.
    attributes = {name: getattr(nurture, name, None) for name in ("delivery", "recorder", "wire")}
    try:
        for name in SENDING_MODULES:
            source = revision_source(rev, name.replace(".", "/") + ".py")
            if source is not None:
                path = Path(tmp) / "revision" / (name.replace(".", "/") + ".py")
                path.write_text(source)
                _exec_module(name, path)
        return _exec_module("nurture.delivery", folder / "__init__.py", package=folder)
    finally:
        for name in [name for name in sys.modules if name.startswith("nurture.delivery")] + list(
            SENDING_MODULES
        ):
            del sys.modules[name]
        sys.modules.update({name: module for name, module in own.items() if module is not None})
        for name, module in attributes.items():
            setattr(nurture, name, module)


def _exec_module(name: str, path: Path, *, package: Path | None = None):
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(package)] if package else None
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent, _dot, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)
    spec.loader.exec_module(module)
    return module


def one_run(app, module, count, port, raw) -> tuple[float, float]:
    """(mails per second / ceiling, ceiling) for one worker's pass over `count` due mails."""
    from core.extensions import db
    from core.memory import freeze_startup_objects

    before = sending.raw_ceiling(port, raw, 1000)
    with app.app_context():
        now = sending.seed(count)
        freeze_startup_objects()
        with app.test_request_context(base_url="http://localhost"):
            started = time.perf_counter()
            while sum(module.materialise(now, limit=200).values()) >= 200:
                pass
            pacer = module.Pacer(0) if hasattr(module, "Pacer") else None
            while batch := module.claim(now, limit=200, worker="ab", lease_seconds=300):
                module.deliver(batch, now, pacer=pacer)
            elapsed = time.perf_counter() - started
        db.session.remove()
    ceiling = (before + sending.raw_ceiling(port, raw, 1000)) / 2
    return count / elapsed / ceiling, ceiling


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("rev", help="the revision to compare with (e.g. HEAD~3)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--database", help="default: a temporary SQLite file")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="lodestar-ab-")
    with sending.sink_process(os.path.join(tmp, "received.tsv")) as port:
        database = args.database or f"sqlite:///{tmp}/ab.db"
        app = sending.make_app(database, port, tmp)
        raw, _ = sending.sample_message(app)
        from nurture import delivery

        variants = {args.rev: load_revision(args.rev, tmp), "this checkout": delivery}
        results = {name: [] for name in variants}
        for pair in range(args.pairs):
            order = list(variants) if pair % 2 == 0 else list(variants)[::-1]
            for name in order:
                ratio, ceiling = one_run(app, variants[name], args.count, port, raw)
                results[name].append(ratio)
                print(f"{name}: {ratio:.0%} of raw smtplib ({ceiling:,.0f} mails/s)", flush=True)
        for name, ratios in results.items():
            shown = " ".join(f"{ratio:.0%}" for ratio in ratios)
            print(f"{name}: {shown}; mean {sum(ratios) / len(ratios):.0%}")
        wins = sum(new > old for old, new in zip(results[args.rev], results["this checkout"], strict=True))
        print(f"this checkout ahead in {wins} of {args.pairs} pairs")


if __name__ == "__main__":
    main()
