"""The clinic's quality reports page in headless Chromium against ``ryggrad serve``: a signed-in clinician opens
"Kvalitetsrapporter" from the navigation, reads the last completed quarter's report for the unit in the page (a
sandboxed frame), picks an annual report instead, and downloads it as PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.portal.clinic_support import add_clinician, sign_in
from tests.portal.support import PortalServer

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (the test extra)")
expect = sync_api.expect

HPR = "7654329"


def test_a_clinician_reads_and_downloads_the_units_report(page: Any, portal: PortalServer, tmp_path: Path):
    add_clinician(portal, HPR)
    sign_in(page, HPR)
    page.get_by_role("navigation", name="Klinikkens sider").get_by_role("link", name="Kvalitetsrapporter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kvalitetsrapporter for enheten")
    period = page.get_by_label("Periode")
    chosen = period.input_value()
    assert "Q" in chosen  # the last completed quarter first
    frame = page.frame_locator("iframe.report-frame")
    expect(frame.get_by_role("heading", level=1)).to_have_text("Kvartalsrapport for Portal test clinic", timeout=60_000)
    expect(frame.get_by_role("table").first).to_contain_text("N<30")  # no episodes here: no shares

    year = period.locator("optgroup[label='Årsrapporter'] option").first.get_attribute("value")
    period.select_option(year)
    expect(frame.get_by_role("heading", level=1)).to_have_text("Årsrapport for Portal test clinic", timeout=60_000)
    expect(page.locator("iframe.report-frame")).to_have_attribute("sandbox", "")

    with page.expect_download(timeout=60_000) as started:
        page.get_by_role("button", name="Last ned PDF").click()
    download = started.value
    assert download.suggested_filename == f"kvalitetsrapport-{year}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    page.goto("/clinic/reports")  # the English path leads to the same page
    expect(page.get_by_role("heading", level=1)).to_have_text("Kvalitetsrapporter for enheten")
