"""Where tests find the reference material in ``../shared`` (read in place, never copied)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
FIXTURES = SHARED_DIR / "fixtures"

requires_shared = pytest.mark.skipif(
    not FIXTURES.is_dir(),
    reason=f"reference fixtures not present at {SHARED_DIR} (../shared beside the checkout)",
)


def require_node_package(folder: Path, package: str) -> None:
    """Skip, with the reason, unless Node.js and ``package`` (installed in ``folder`` by ``make test``) are here."""
    if shutil.which("node") is None:
        pytest.skip(f"Node.js is not installed: {package} cannot run here")
    if not (folder / "node_modules" / package).exists():
        pytest.skip(f"{package} is not installed in {folder.name}/ (`make test` installs it)")
