"""Result controls over HTTP: _sort with keyset paging, _summary, _elements, _total, lenient handling."""

from __future__ import annotations

from tests.rest.helpers import patient, unique, with_identifier


def _pages(client, url: str) -> list[dict]:
    entries: list[dict] = []
    while url:
        bundle = client.get(url.replace("http://testserver", "")).json()
        entries += [e for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    return entries


def _make(client, tag: str, values: list[str]) -> list[str]:
    ids = []
    for value in values:
        body = {
            **patient(),
            "identifier": [{"system": f"urn:{tag}", "value": value}, {"system": "urn:tag", "value": tag}],
        }
        ids.append(client.post("/fhir/Patient", json=body).json()["id"])
    return ids


def test_sort_by_token_both_directions_across_pages(client):
    tag = unique("sort")
    _make(client, tag, ["c", "a", "e", "b", "d"])
    ascending = _pages(client, f"/fhir/Patient?identifier=urn:tag|{tag}&_sort=identifier&_count=2")
    # each patient's lowest identifier code decides: the sort values a..e, then the shared tag
    assert [min(i["value"] for i in e["resource"]["identifier"]) for e in ascending] == ["a", "b", "c", "d", "e"]
    descending = _pages(client, f"/fhir/Patient?identifier=urn:tag|{tag}&_sort=-_id&_count=2")
    ids = [e["resource"]["id"] for e in descending]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 5


def test_sort_by_last_updated_is_stable_while_inserting(client):
    tag = unique("stable")
    first = _make(client, tag, ["1", "2", "3"])
    url = f"/fhir/Patient?identifier=urn:tag|{tag}&_sort=_lastUpdated&_count=2"
    page = client.get(url).json()
    seen = [e["resource"]["id"] for e in page["entry"]]
    _make(client, tag, ["4"])  # inserted while paging: it sorts last, so it appears on a later page
    next_url = next(link["url"] for link in page["link"] if link["relation"] == "next")
    seen += [e["resource"]["id"] for e in _pages(client, next_url)]
    assert seen[:3] == first
    assert len(seen) == 4 and len(set(seen)) == 4


def test_unknown_sort_key_is_400(client):
    assert client.get("/fhir/Patient?_sort=nonsense").status_code == 400


def test_summary_and_elements(client):
    tag = unique("sum")
    body = with_identifier(
        {
            **patient(),
            "gender": "female",
            "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'},
        },
        "urn:tag",
        tag,
    )
    client.post("/fhir/Patient", json=body)
    summary = client.get(f"/fhir/Patient?identifier=urn:tag|{tag}&_summary=true").json()["entry"][0]["resource"]
    assert "gender" in summary and "text" not in summary
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"} in summary[
        "meta"
    ]["tag"]
    data = client.get(f"/fhir/Patient?identifier=urn:tag|{tag}&_summary=data").json()["entry"][0]["resource"]
    assert "text" not in data and "name" in data
    elements = client.get(f"/fhir/Patient?identifier=urn:tag|{tag}&_elements=gender").json()["entry"][0]["resource"]
    assert set(elements) == {"resourceType", "id", "meta", "gender"}
    count = client.get(f"/fhir/Patient?identifier=urn:tag|{tag}&_summary=count").json()
    assert count["total"] == 1 and count.get("entry", []) == []
    assert client.get("/fhir/Patient?_summary=maybe").status_code == 400


def test_ignored_parameters_are_reported(client):
    result = client.get("/fhir/Patient?_count=1&no-such-parameter=1").json()
    outcomes = [e for e in result["entry"] if e["search"]["mode"] == "outcome"]
    assert outcomes and "no-such-parameter" in outcomes[0]["resource"]["issue"][0]["diagnostics"]
    assert all("no-such-parameter" not in link["url"] for link in result["link"])


def test_dates_at_the_end_of_time(client):
    for value in ("9999", "9999-12", "9999-12-31", "9999-12-31T23:59:59Z"):
        assert client.get(f"/fhir/Patient?_lastUpdated=lt{value}&_count=1").status_code == 200, value


def test_include_follows_only_local_references(client):
    local = client.post("/fhir/Patient", json=patient()).json()
    other_server = f"https://elsewhere.example/fhir/Patient/{local['id']}"
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": other_server},
        "identifier": [{"system": "urn:inc", "value": unique()}],
    }
    created = client.post("/fhir/Observation", json=obs).json()
    bundle = client.get(f"/fhir/Observation?_id={created['id']}&_include=Observation:subject").json()
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["match"]
    own = {**obs, "subject": {"reference": f"http://testserver/fhir/Patient/{local['id']}"}}
    mine = client.post("/fhir/Observation", json=own).json()
    bundle = client.get(f"/fhir/Observation?_id={mine['id']}&_include=Observation:subject").json()
    assert [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "include"] == [local["id"]]
