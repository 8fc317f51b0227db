"""Where tests find the reference material in ``../shared`` (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
FIXTURES = SHARED_DIR / "fixtures"

requires_shared = pytest.mark.skipif(
    not FIXTURES.is_dir(),
    reason=f"reference fixtures not present at {SHARED_DIR} (../shared beside the checkout)",
)
