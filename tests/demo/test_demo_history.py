"""The demo's registry history, loaded the way ``ryggrad demo`` loads it (one transaction through the server), scored
by the scoring worker: the scheduler's stored MeasureReports and a demo clinic's quality report agree, the PDF's
pages render, and loading the demo again creates nothing.

The demo is built for a ``today`` in 2013 with a seed of its own: tests share a database, and no other test has
episodes in 2010-2013, so the national numbers are the demo's."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fhir_server.demo import CANONICAL_BASE, build_demo_bundle
from fhir_server.demo.history import EPISODE_ID_SYSTEM, EPISODES, RESPONSE_ID_SYSTEM
from fhir_server.indicators.periods import last_completed_quarter, parse_period
from fhir_server.norway.identifiers import RESH_SYSTEM
from fhir_server.rest.messages import FhirRequest
from fhir_server.subscriptions.delivery import deliver
from tests.reports.printed import PDF_UNAVAILABLE, printed
from workers.indicator_reports import IDENTIFIER_SYSTEM, store_reports
from workers.registry.subscriptions import INTERNAL, ensure_subscriptions
from workers.reports.document import build_report, render
from workers.reports.formatting import share_text

TODAY = date(2013, 3, 20)
SEED = 5151
YEAR = "2012"


@dataclass(frozen=True)
class Loaded:
    bundle: dict[str, Any]
    statuses: list[str]
    clinic: dict[str, Any]  # the first NNRR clinic as stored
    resh: str


def _load(server, bundle: dict[str, Any]) -> list[str]:
    response = server.execute(FhirRequest("POST", "", body=bundle))
    return [entry["response"]["status"].split()[0] for entry in response.resource["entry"]]


@pytest.fixture(scope="module")
def demo(server, client) -> Loaded:
    bundle = build_demo_bundle(SEED, today=TODAY)
    ensure_subscriptions(server)  # the scoring worker scores the forms
    try:
        statuses = _load(server, bundle)
        while deliver(server, "registry-scores") != "done":
            pass
    finally:
        for sid, *_ in INTERNAL:
            client.delete(f"/fhir/Subscription/{sid}")
    store_reports(server, TODAY)
    clinics = [e["resource"] for e in bundle["entry"] if "Nakke- og rygg" in e["resource"].get("name", "")]
    resh = next(i["value"] for i in clinics[0]["identifier"] if i["system"] == RESH_SYSTEM)
    found = client.get("/fhir/Organization", params={"identifier": f"{RESH_SYSTEM}|{resh}"}).json()
    (clinic,) = [e["resource"] for e in found["entry"]]
    return Loaded(bundle, statuses, clinic, resh)


def _stored(client, measure_id: str, label: str, unit: str) -> dict[str, int]:
    key = f"{measure_id}/{label}/{unit}"
    found = client.get("/fhir/MeasureReport", params={"identifier": f"{IDENTIFIER_SYSTEM}|{key}"}).json()
    (report,) = [e["resource"] for e in found.get("entry", [])]
    (group,) = report["group"]
    return {p["code"]["coding"][0]["code"]: p["count"] for p in group["population"]}


def test_the_history_is_created_and_every_episode_has_its_forms(demo: Loaded, client):
    assert set(demo.statuses) == {"201"}
    kinds = Counter(
        e["resource"]["questionnaire"].split("/")[-1]
        for e in demo.bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    episodes = sum(EPISODES.values())
    assert kinds["nnrr-clinician|1.0.0"] == episodes
    assert kinds["nnrr-pre-consultation|1.0.0"] > 0.9 * episodes
    assert 0 < kinds["nnrr-follow-up-12m|1.0.0"] < kinds["nnrr-follow-up-6m|1.0.0"] < episodes
    found = client.get(
        "/fhir/EpisodeOfCare", params={"identifier": f"{EPISODE_ID_SYSTEM}|", "_summary": "count"}
    ).json()
    assert found["total"] >= episodes
    unit = f"Organization/{demo.clinic['id']}"
    mine = client.get("/fhir/EpisodeOfCare", params={"organization": unit, "_summary": "count"}).json()
    assert mine["total"] == EPISODES["nnrr-a"]


def test_the_patients_forms_are_scored(demo: Loaded, client):
    (value, *_) = [
        e["resource"]["identifier"]["value"]
        for e in demo.bundle["entry"]
        if e["resource"].get("questionnaire", "").startswith(f"{CANONICAL_BASE}/Questionnaire/nnrr-pre")
    ]
    found = client.get("/fhir/QuestionnaireResponse", params={"identifier": f"{RESPONSE_ID_SYSTEM}|{value}"}).json()
    (response,) = [e["resource"] for e in found["entry"]]
    scores = client.get("/fhir/Observation", params={"derived-from": f"QuestionnaireResponse/{response['id']}"})
    assert scores.json().get("entry")  # ODI, pain, … from the scoring worker


@pytest.mark.parametrize("label", [YEAR, last_completed_quarter(TODAY).label])
def test_the_clinics_report_shows_the_stored_measure_reports(demo: Loaded, server, client, label: str):
    unit = f"Organization/{demo.clinic['id']}"
    report = build_report(server, demo.clinic, demo.resh, parse_period(label), TODAY)
    assert report.indicators
    for indicator in report.indicators:
        stored = _stored(client, f"nnrr-{indicator.key}", label, unit)
        assert (indicator.unit.denominator, indicator.unit.numerator) == (
            stored.get("denominator", 0),
            stored.get("numerator", 0),
        ), indicator.key
        national = _stored(client, f"nnrr-{indicator.key}", label, "national")
        assert indicator.national.denominator == national.get("denominator", 0), indicator.key
    if label == YEAR:  # a year of the clinic is enough for shares: the report shows numbers, not N<30
        shown = {i.key: i.unit for i in report.indicators}
        for key in ("coping-talk", "interdisciplinary-treatment", "odi-improved", "perceived-benefit"):
            assert shown[key].denominator >= 30 and shown[key].share is not None, key
            assert 0 < shown[key].numerator < shown[key].denominator, key
    html = render(report, "html").content.decode("utf-8")
    assert demo.clinic["name"] in html


@pytest.mark.skipif(PDF_UNAVAILABLE is not None, reason=PDF_UNAVAILABLE or "")
def test_the_clinics_pdf_renders_into_pages(demo: Loaded, server, tmp_path: Path):
    report = build_report(server, demo.clinic, demo.resh, parse_period(YEAR), TODAY)
    document = render(report, "pdf")
    assert document.content.startswith(b"%PDF")
    shown = printed(document, tmp_path)
    pages, words = shown.pages, shown.words
    assert len(pages) >= 3
    assert all(p.stat().st_size > 1000 for p in pages)
    assert report.unit_name in words
    coping = next(i for i in report.indicators if i.key == "coping-talk")
    assert share_text(coping.unit) in words


def test_loading_again_creates_nothing(demo: Loaded, server):
    again = build_demo_bundle(SEED, today=TODAY)
    assert set(_load(server, again)) == {"200"}
