"""A gunicorn worker's start-up objects are left out of the garbage collector's passes."""

import json
import subprocess
import sys

from bench.harness import ROOT, instance_env

PROBE = """
import gc, json
import wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}))
"""


def test_the_wsgi_module_freezes_what_start_up_made(tmp_path):
    """What create_app loaded (modules, templates, the pinyin tables) is frozen, so a full
    collection walks a small fraction of the objects instead of all of them."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=instance_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["frozen"] > 100_000
    assert counts["tracked"] < counts["frozen"] / 10
