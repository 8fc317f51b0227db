"""A clinic tablet (registry rule N8): staff issue a one-time code for the form; typed on the tablet, it opens that
one form directly — consent first, then the form — and nothing else; sending completes the Task."""

from __future__ import annotations

from typing import Any

import pytest

from tests.portal.support import ORGNR, PortalServer, wait_for

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (the test extra)")
expect = sync_api.expect

FNR = "13031353453"
FORM = "Skjema før første konsultasjon"


def _issue_code(portal: PortalServer, task_id: str) -> str:
    clerk = portal.token("clerk", org=ORGNR)
    issued = portal.http.post(f"{portal.base}/Task/{task_id}/$issue-code", headers=clerk)
    assert issued.status_code == 200, issued.text
    return next(p["valueString"] for p in issued.json()["parameter"] if p["name"] == "code")


def test_a_one_time_code_opens_the_form_on_a_clinic_tablet(page: Any, portal: PortalServer):
    task = portal.nnrr_form(FNR)
    code = _issue_code(portal, task["id"])

    page.goto("/portal/")
    page.get_by_label("Engangskode").fill("ABCD-EFGH")
    page.get_by_role("button", name="Åpne skjemaet").click()
    expect(page.get_by_role("alert")).to_contain_text("Koden virker ikke")

    page.get_by_label("Engangskode").fill(code)
    page.get_by_role("button", name="Åpne skjemaet").click()
    expect(page.get_by_role("heading", name="Samtykke til registrering")).to_be_visible()
    assert page.url.endswith(f"/portal/oppgave/{task['id']}")
    stored = page.evaluate("() => JSON.parse(window.sessionStorage.getItem('ryggrad.portal.session'))")
    assert stored["kind"] == "tablet" and stored["task"] == task["id"] and stored["token"].startswith("rgc_")
    assert "rgc_" not in page.url

    page.goto("/portal/oppgaver")  # a tablet opens its one form, nothing else
    expect(page.get_by_role("heading", name="Samtykke til registrering")).to_be_visible()
    assert page.url.endswith(f"/portal/oppgave/{task['id']}")

    page.get_by_label("Jeg har lest informasjonen og samtykker", exact=False).check()
    page.get_by_role("button", name="Gå videre til skjemaet").click()
    expect(page.get_by_role("heading", name=FORM, level=1)).to_be_visible()
    page.get_by_label("Grunnskole").check()
    page.get_by_label("Jeg samtykker").check()
    page.get_by_role("button", name="Send inn").click()
    expect(page.get_by_role("heading", name="Takk! Skjemaet er sendt inn")).to_be_visible()
    expect(page.get_by_role("heading", name="Dine svar")).to_have_count(0)  # a shared tablet shows no answers
    assert wait_for(lambda: portal.task(task["id"])["status"] == "completed", "the Task to be completed")

    page.get_by_role("button", name="Avslutt").click()
    expect(page.get_by_label("Engangskode")).to_be_visible()
    assert page.evaluate("() => window.sessionStorage.length") == 0
