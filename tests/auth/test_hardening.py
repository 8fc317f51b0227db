"""Security headers, CORS for the portal's origin only, the rate limit per client, the roles' hard limits, and the
rule that a completed patient form is never changed (N20)."""

from __future__ import annotations

from starlette.testclient import TestClient

from fhir_server.http.app import create_app
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from tests.conftest import BASE_URL, bearer
from tests.rest.helpers import unique

PORTAL = "https://portal.example.no"


def _client(server, tmp_path, **settings) -> TestClient:
    configured = Settings(data_dir=tmp_path, base_url=BASE_URL, auth="dev", **settings)
    other = FhirServer(configured, db=server.db, definitions=server.definitions)
    return TestClient(create_app(server=other), base_url="http://testserver")


def test_security_headers_on_every_answer(client):
    for response in (client.get("/fhir/metadata"), client.get("/fhir/Patient/nope"), client.get("/healthz")):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in client.get("/fhir/metadata").headers  # the test base is http


def test_cors_for_the_portal_origin_only(server, tmp_path, client):
    assert "access-control-allow-origin" not in client.get("/fhir/metadata", headers={"Origin": PORTAL}).headers
    with _client(server, tmp_path, cors_origins=[PORTAL]) as portal:
        preflight = portal.options(
            "/fhir/Task",
            headers={
                "Origin": PORTAL,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization, DPoP",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == PORTAL
        stranger = portal.options(
            "/fhir/Task", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in stranger.headers


def test_rate_limit_per_client(server, tmp_path):
    """Six a minute: a burst of one, then one every ten seconds (slow enough that the test never sees a refill)."""
    with _client(server, tmp_path, rate_limit_per_minute=6) as limited:
        token = bearer(limited.app.state.server, "clinician", client_id=unique("busy"), org="974589095")
        calm = bearer(limited.app.state.server, "clinician", client_id=unique("calm"), org="974589095")
        assert [limited.get("/fhir/metadata").status_code for _ in range(3)] == [200] * 3  # public: not limited
        assert limited.get("/fhir/Organization?_count=1", headers=token).status_code == 200
        refused = limited.get("/fhir/Organization?_count=1", headers=token)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["issue"][0]["code"] == "throttled"
        assert limited.get("/fhir/Organization?_count=1", headers=calm).status_code == 200  # others go on
        wrong = [limited.get("/fhir/Patient", headers={"Authorization": "Bearer x"}).status_code for _ in range(2)]
        assert wrong == [401, 429]  # guessing tokens is throttled by address


def test_a_completed_patient_form_is_never_changed(client):
    patient = client.post("/fhir/Patient", json={"resourceType": "Patient"}).json()
    form = {
        "resourceType": "QuestionnaireResponse",
        "status": "in-progress",
        "subject": {"reference": f"Patient/{patient['id']}"},
        "author": {"reference": f"Patient/{patient['id']}"},
    }
    draft = client.post("/fhir/QuestionnaireResponse", json=form).json()
    path = f"/fhir/QuestionnaireResponse/{draft['id']}"
    assert client.put(path, json={**draft, "status": "completed"}).status_code == 200  # a draft may be sent
    sent = client.get(path).json()
    assert client.put(path, json=sent).status_code == 200  # the same again changes nothing: allowed
    changed = client.put(path, json={**sent, "status": "amended"})
    assert changed.status_code == 409 and changed.json()["issue"][0]["code"] == "business-rule"
    patch = [{"op": "replace", "path": "/status", "value": "in-progress"}]
    patched = client.patch(path, json=patch, headers={"Content-Type": "application/json-patch+json"})
    assert patched.status_code == 409
    assert client.delete(path).status_code == 409
    assert client.get(path).json()["meta"]["versionId"] == sent["meta"]["versionId"]
    # a clinician's completed form is the clinician's to correct
    clinical = {**form, "status": "completed", "author": {"reference": "Practitioner/p1"}}
    made = client.post("/fhir/QuestionnaireResponse", json=clinical).json()
    again = client.put(f"/fhir/QuestionnaireResponse/{made['id']}", json={**made, "status": "amended"})
    assert again.status_code == 200
