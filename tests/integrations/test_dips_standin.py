"""The DIPS stand-in (tests/standins/dips.py) over real HTTP: versions and lastUpdated as DIPS moves them, the
search by _lastUpdated with stable paging, HelseID's DPoP-bound tokens required, injected failures, and pushing
into the intake."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from fhir_server.http.app import create_app
from fhir_server.integrations.helseid import HelseIdClient, SigningKey
from fhir_server.server import FhirServer
from tests.conftest import bearer
from tests.standins.dips import OSLO_WINTER, SCOPE, DipsStandIn
from tests.standins.helseid import HelseIdStandIn, RegisteredClient

OWNER = "974589095"


def helseid_client(helseid: HelseIdStandIn, client_id: str, scopes: list[str] | None = None) -> HelseIdClient:
    """A client registered at the stand-in for DIPS's scope (unregistered with ``register=False``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    helseid.register(RegisteredClient(client_id, public, {SCOPE}))
    return HelseIdClient(
        token_endpoint=helseid.token_endpoint,
        client_id=client_id,
        signing_key=SigningKey(key, "RS256"),
        scopes=scopes or [SCOPE],
    )


def search(http: httpx.Client, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a search, following next links."""
    pages = []
    next_url: str | None = url
    while next_url:
        response = http.get(next_url, params=params) if params and next_url == url else http.get(next_url)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        next_url = next((link["url"] for link in pages[-1]["link"] if link["relation"] == "next"), None)
    return pages


def test_changes_bump_the_version_and_lastupdated(dips: DipsStandIn):
    dips_id = dips.book()
    booked = dips.current(dips_id)
    moved = dips.move(dips_id, datetime(2027, 1, 5, 10, 0, tzinfo=OSLO_WINTER))
    cancelled = dips.cancel(dips_id)
    assert [a["meta"]["versionId"] for a in (booked, moved, cancelled)] == ["1", "2", "3"]
    stamps = [datetime.fromisoformat(a["meta"]["lastUpdated"]) for a in (booked, moved, cancelled)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert moved["start"] == "2027-01-05T10:00:00+01:00" and moved["end"] == "2027-01-05T10:45:00+01:00"
    assert cancelled["status"] == "cancelled" and cancelled["meta"]["tag"][0]["code"] == "NotOnlineBookable"


def test_a_search_pages_by_lastupdated_and_a_change_while_paging_skips_nothing(dips, helseid):
    client = helseid_client(helseid, "dips-standin-paging")
    ids = [dips.book() for _ in range(5)]
    since = dips.current(ids[1])["meta"]["lastUpdated"]
    with httpx.Client(auth=client.auth()) as http:
        first = http.get(
            f"{dips.base}/Appointment", params={"_lastUpdated": f"ge{since}", "_sort": "_lastUpdated", "_count": 2}
        ).json()
        assert first["type"] == "searchset" and first["total"] == 4
        assert [e["resource"]["id"] for e in first["entry"]] == ids[1:3]
        dips.move(ids[1], datetime(2027, 2, 1, 9, 0, tzinfo=OSLO_WINTER))  # moves behind the others
        rest = search(http, next(link["url"] for link in first["link"] if link["relation"] == "next"))
        seen = [e["resource"]["id"] for page in rest for e in page["entry"]]
        assert seen == [ids[3], ids[4], ids[1]]
        by_id = http.get(f"{dips.base}/Appointment/{ids[1]}")
        assert by_id.status_code == 200 and by_id.headers["etag"] == 'W/"2"'
        later = search(
            http, f"{dips.base}/Appointment", _lastUpdated=f"gt{dips.current(ids[4])['meta']['lastUpdated']}"
        )
        assert [e["resource"]["id"] for page in later for e in page["entry"]] == [ids[1]]


def test_a_request_without_a_valid_dpop_bound_token_is_refused(dips, helseid):
    dips.book()
    plain = httpx.get(f"{dips.base}/Appointment")
    assert plain.status_code == 401 and plain.json()["resourceType"] == "OperationOutcome"
    client = helseid_client(helseid, "dips-standin-auth")
    token = client.access_token()
    replayed = httpx.get(f"{dips.base}/Appointment", headers={"Authorization": f"DPoP {token}"})
    assert replayed.status_code == 401 and "proof" in replayed.json()["issue"][0]["diagnostics"]
    wrong_url = client.proof("GET", f"{dips.base}/Patient", token)
    refused = httpx.get(f"{dips.base}/Appointment", headers={"Authorization": f"DPoP {token}", "DPoP": wrong_url})
    assert refused.status_code == 401 and "another URL" in refused.json()["issue"][0]["diagnostics"]
    with httpx.Client(auth=client.auth()) as http:
        assert http.get(f"{dips.base}/Appointment").status_code == 200


def test_other_audiences_tokens_are_refused(dips, helseid):
    other = "nhn:ryggrad/system/Patient.rs"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    helseid.register(RegisteredClient("dips-standin-audience", public, {other}))
    client = HelseIdClient(
        token_endpoint=helseid.token_endpoint,
        client_id="dips-standin-audience",
        signing_key=SigningKey(key, "RS256"),
        scopes=[other],
    )
    with httpx.Client(auth=client.auth()) as http:
        response = http.get(f"{dips.base}/Appointment")
    assert response.status_code == 401 and "audience" in response.json()["issue"][0]["diagnostics"].lower()


def test_injected_failures_answer_503_then_recover():
    dips = DipsStandIn()
    try:
        dips.book()
        dips.fail_next(2)
        statuses = [httpx.get(f"{dips.base}/Appointment").status_code for _ in range(3)]
        assert statuses == [503, 503, 200]
    finally:
        dips.close()


def test_ties_share_an_instant_when_the_clock_does_not_move():
    dips = DipsStandIn(tick=timedelta(0))
    try:
        first, second = dips.book(), dips.book()
        assert dips.current(first)["meta"]["lastUpdated"] == dips.current(second)["meta"]["lastUpdated"]
        pages = search(httpx.Client(), f"{dips.base}/Appointment", _sort="_lastUpdated", _count=1)
        assert sorted(e["resource"]["id"] for p in pages for e in p["entry"]) == sorted([first, second])
    finally:
        dips.close()


def test_a_push_reaches_the_intake_with_a_development_token(server: FhirServer, client: TestClient):
    dips = DipsStandIn()
    try:
        dips_id = dips.book()
        with TestClient(create_app(server=server)) as http:
            headers = bearer(server, "ehr", org=OWNER)
            first = dips.push("http://testserver/intake/dips", dips_id, headers=headers, http=http)
            assert first.status_code == 201, first.text
            dips.cancel(dips_id)
            second = dips.push("http://testserver/intake/dips", dips_id, headers=headers, http=http)
            assert second.status_code == 200 and second.json()["status"] == "cancelled"
        assert client.get(f"/fhir/Appointment/dips-{dips_id}").json()["status"] == "cancelled"
    finally:
        dips.close()
