"""Helsenorge's renderer, ``@helsenorge/refero``, renders every registry form: ``portal/tests/
registry-forms.test.jsx`` (vitest, jsdom) run from here so ``make test`` covers it (skipped without Node)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.paths import require_node_package

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def test_refero_renders_every_registry_form():
    require_node_package(PORTAL, "@helsenorge/refero")
    ran = subprocess.run(
        ["npx", "vitest", "run", "tests/registry-forms.test.jsx"],
        cwd=PORTAL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output[-4000:]
    assert " passed" in output and " failed" not in output
