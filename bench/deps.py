"""Install the Debian packages the benchmarks need (bench/debian-packages.txt) where their
command is missing; `make bench-deps` runs it before any benchmark.

    python3 bench/deps.py [--check]

A package counts as present when its command is on PATH (Java from another JRE package
does as well). Missing ones are installed with apt-get when this runs as root on Debian;
otherwise, and with --check, it names them and the command that installs them, and exits 1.
Standard library only: it runs before the virtualenv exists.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

LIST = Path(__file__).resolve().parent / "debian-packages.txt"


def packages() -> list[tuple[str, str, str]]:
    """(package, command, needed by) for each line of the list."""
    rows = []
    for line in LIST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            package, command, needed_by = line.split(maxsplit=2)
            rows.append((package, command, needed_by))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is missing")
    args = parser.parse_args()
    missing = [
        (package, needed_by) for package, command, needed_by in packages() if not shutil.which(command)
    ]
    if not missing:
        return 0
    names = [package for package, _ in missing]
    can_install = not args.check and os.geteuid() == 0 and shutil.which("apt-get")
    if can_install:
        print(f"installing {' '.join(names)} (apt-get)", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        update = subprocess.run(["apt-get", "update", "-qq"], env=env)
        install = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *names],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        if update.returncode == 0 and install.returncode == 0:
            return 0
    for package, needed_by in missing:
        print(f"missing Debian package {package}: {needed_by}", file=sys.stderr)
    print(f"install them with: sudo apt-get install {' '.join(names)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
