"""Helsenorge's renderer, ``@helsenorge/refero``, renders every registry form: ``portal/tests/
registry-forms.test.jsx`` (vitest, jsdom) run from here so ``make test`` covers it (skipped without Node)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def test_refero_renders_every_registry_form():
    if shutil.which("npx") is None:
        pytest.skip("Node.js is not installed: the renderer cannot run here")
    if not (PORTAL / "node_modules" / "@helsenorge" / "refero").is_dir():
        pytest.skip("the portal's packages are not installed (npm ci --prefix portal; `make test` does it)")
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
