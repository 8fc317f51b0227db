"""Fixtures of the portal's browser tests: the build, a server, headless Chromium (skipped, with the reason, when
Chromium, Playwright or the portal's Node packages are missing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.portal.support import PortalServer, build_portal, chromium_path


@pytest.fixture(scope="session")
def portal_build() -> None:
    reason = build_portal()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def portal(portal_build: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    with PortalServer(tmp_path_factory.mktemp("portal")).serving() as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed (`make install-test` installs Debian's chromium as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (the test extra)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, portal: PortalServer, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(base_url=portal.url, locale="nb-NO", timezone_id="Europe/Oslo")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"errors in the page: {errors}"
