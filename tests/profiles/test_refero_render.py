"""Helsenorge's renderer, ``@helsenorge/refero``, renders every registry form: ``portal/tests/
registry-forms.test.jsx`` (vitest, jsdom) run from here so ``make test`` covers it (skipped without Node)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.paths import require_node_package

PORTAL = Path(__file__).resolve().parents[2] / "portal"


#: Vitest's worker gives up on its runner when a test keeps its thread busy for a minute (a big form on a loaded
#: machine): an "unhandled error" beside passing tests (vitest-dev/vitest#8164). Such a run is repeated once.
RUNNER_TIMEOUT = 'Timeout calling "onTaskUpdate"'


def _vitest() -> tuple[int, str]:
    ran = subprocess.run(
        ["npx", "vitest", "run", "tests/registry-forms.test.jsx"],
        cwd=PORTAL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return ran.returncode, ran.stdout + ran.stderr


def test_refero_renders_every_registry_form():
    require_node_package(PORTAL, "@helsenorge/refero")
    returncode, output = _vitest()
    if returncode != 0 and RUNNER_TIMEOUT in output and " failed" not in output:
        returncode, output = _vitest()
    assert returncode == 0, output[-4000:]
    assert " passed" in output and " failed" not in output
