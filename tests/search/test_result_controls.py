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


def test_sort_by_last_updated_follows_updates(client):
    """An update moves a resource to the end of ``_sort=_lastUpdated`` (and to the front of ``-_lastUpdated``)."""
    tag = unique("updated")
    first, second, third = _make(client, tag, ["1", "2", "3"])
    body = client.get(f"/fhir/Patient/{first}").json()
    client.put(f"/fhir/Patient/{first}", json={**body, "gender": "other"})
    url = f"/fhir/Patient?identifier=urn:tag|{tag}&_count=2&_sort="
    assert [e["resource"]["id"] for e in _pages(client, url + "_lastUpdated")] == [second, third, first]
    assert [e["resource"]["id"] for e in _pages(client, url + "-_lastUpdated")] == [first, third, second]


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


def _care_plan(tag: str, events: list[str]) -> dict:
    body: dict = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Patient/x"},
        "meta": {"tag": [{"system": "urn:test", "code": tag}]},
    }
    if events:
        body["activity"] = [{"detail": {"status": "scheduled", "scheduledTiming": {"event": events}}}]
    return body


def _inverted(text: str) -> list[int]:
    return [-ord(c) for c in text]


def test_sort_by_a_repeating_date_across_pages(client):
    """A resource sorts by its lowest date ascending and its highest descending; resources without one come
    last; paging by two crosses from the dated to the undated without losing or repeating any."""
    tag = unique("dates")
    events = [
        ["2024-03-05"],
        ["2024-01-10", "2024-09-01"],
        [],
        ["2024-03-05"],  # ties the first: rid order
        ["2023-12-31", "2024-02-01", "2024-12-24"],
        [],
        ["2024-06-15"],
    ]
    ids = [client.post("/fhir/CarePlan", json=_care_plan(tag, e)).json()["id"] for e in events]
    dated = [i for i, e in enumerate(events) if e]
    undated = [i for i, e in enumerate(events) if not e]
    by_low = sorted(dated, key=lambda i: (min(events[i]), i))
    by_high = sorted(dated, key=lambda i: (max(events[i]), i), reverse=True)  # ties: the later first
    by_id_desc = sorted(undated, key=lambda i: ids[i], reverse=True)
    for sort, expected in [
        ("activity-date", by_low + undated),
        ("-activity-date", by_high + undated),
        ("activity-date,-_id", sorted(dated, key=lambda i: (min(events[i]), _inverted(ids[i]))) + by_id_desc),
    ]:
        for count in (2, 3, 50):
            found = _pages(client, f"/fhir/CarePlan?_tag=urn:test|{tag}&_sort={sort}&_count={count}")
            assert [e["resource"]["id"] for e in found] == [ids[i] for i in expected], (sort, count)


def test_total_modes(client):
    tag = unique("total")
    _make(client, tag, ["1", "2", "3"])
    url = f"/fhir/Patient?identifier=urn:tag|{tag}"
    assert "total" not in client.get(url).json()  # _total=none is the default
    assert client.get(url + "&_total=accurate&_count=1").json()["total"] == 3
    assert client.get(url + "&_total=estimate").json()["total"] == 3  # all on the first page: counted, not guessed
    estimate = client.get(url + "&_total=estimate&_count=1").json()["total"]
    assert isinstance(estimate, int) and estimate >= 0  # the planner's guess on PostgreSQL
    assert client.get(url + "&_summary=count").json()["total"] == 3
    assert client.get(url + "&_total=sometimes").status_code == 400
