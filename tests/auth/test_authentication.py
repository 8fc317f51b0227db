"""Access tokens over HTTP in jwt mode: what is accepted, and every way a token or DPoP proof can be wrong."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.auth.conftest import AUDIENCE, ISSUER, ROLE_CLAIM, DpopKey, jwt_client
from tests.conftest import BASE_URL

PATIENT = {"resourceType": "Patient", "gender": "female"}


@pytest.fixture
def dpop_client(server, issuer, tmp_path):
    found, url = issuer
    with jwt_client(server, url, tmp_path) as client:
        yield client, found


@pytest.fixture
def bearer_client(server, issuer, tmp_path):
    found, url = issuer
    with jwt_client(server, url, tmp_path, auth_accept_bearer=True, auth_jwks_cooldown_s=0) as client:
        yield client, found


def _dpop(client, issuer, method: str, path: str, key: DpopKey | None = None, **proof):
    key = key or DpopKey()
    token = issuer.token(cnf={"jkt": key.jkt})
    headers = {"Authorization": f"DPoP {token}", "DPoP": key.proof(method, f"{BASE_URL}/{path}", token, **proof)}
    return client.request(method, f"/fhir/{path}", headers=headers, json=PATIENT if method == "POST" else None)


def test_no_token_is_401_with_a_challenge_and_metadata_stays_public(dpop_client):
    client, _ = dpop_client
    response = client.get("/fhir/Patient")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.headers["www-authenticate"].startswith("DPoP algs=")
    assert "Bearer" not in response.headers["www-authenticate"]  # plain Bearer is not accepted here
    metadata = client.get("/fhir/metadata")
    assert metadata.status_code == 200
    security = metadata.json()["rest"][0]["security"]
    assert {c["code"] for c in security["service"][0]["coding"]} == {"SMART-on-FHIR", "OAuth"}
    assert ISSUER in security["description"] and "plain Bearer" not in security["description"]
    assert client.get("/healthz").status_code == 200
    assert client.post("/fhir/Patient", json=PATIENT).status_code == 401


def test_a_dpop_bound_token_with_a_fresh_proof_is_accepted(dpop_client):
    client, found = dpop_client
    created = _dpop(client, found, "POST", "Patient")
    assert created.status_code == 201, created.text
    assert _dpop(client, found, "GET", f"Patient/{created.json()['id']}").status_code == 200


@pytest.mark.parametrize(
    ("proof", "why"),
    [
        ({"htm": "POST"}, "another HTTP method"),
        ({"htu": "https://elsewhere.example/fhir/Patient"}, "another URL"),
        ({"ath": "bm90IHRoaXMgdG9rZW4"}, "another access token"),
        ({"ath": None}, "another access token"),
        ({"iat": int(time.time()) - 3600}, "too old"),
        ({"iat": int(time.time()) + 3600}, "too old or from the future"),
        ({"jti": None}, "does not verify"),
    ],
)
def test_wrong_dpop_proofs_are_401(dpop_client, proof, why):
    client, found = dpop_client
    response = _dpop(client, found, "GET", "Patient", **proof)
    assert response.status_code == 401
    assert why in response.json()["issue"][0]["diagnostics"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_replayed_proof_is_401(dpop_client):
    client, found = dpop_client
    key = DpopKey()
    token = found.token(cnf={"jkt": key.jkt})
    headers = {"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", f"{BASE_URL}/Patient", token)}
    assert client.get("/fhir/Patient", headers=headers).status_code == 200
    replayed = client.get("/fhir/Patient", headers=headers)
    assert replayed.status_code == 401
    assert "used before" in replayed.json()["issue"][0]["diagnostics"]


def test_a_proof_from_another_key_or_none_is_401(dpop_client):
    client, found = dpop_client
    bound, other = DpopKey(), DpopKey()
    token = found.token(cnf={"jkt": bound.jkt})
    proof = other.proof("GET", f"{BASE_URL}/Patient", token)
    response = client.get("/fhir/Patient", headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    assert response.status_code == 401 and "another key" in response.text
    assert client.get("/fhir/Patient", headers={"Authorization": f"DPoP {token}"}).status_code == 401
    # a bound token sent as a plain Bearer token is refused, even where Bearer is accepted
    assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_plain_bearer_tokens_only_where_configured(dpop_client, bearer_client):
    client, found = dpop_client
    token = found.token()
    response = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "only DPoP-bound" in response.text
    open_client, _ = bearer_client
    assert open_client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    unbound = found.token()
    key = DpopKey()
    proof = key.proof("GET", f"{BASE_URL}/Patient", unbound)
    headers = {"Authorization": f"DPoP {unbound}", "DPoP": proof}
    assert client.get("/fhir/Patient", headers=headers).status_code == 401  # DPoP scheme, but no cnf.jkt


def _tampered(found) -> dict[str, str]:
    header, payload, _ = found.token().split(".")
    other_signature = found.token(role="registry-admin").split(".")[2]
    public_pem = found.keys[-1][1].public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    admin = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, ROLE_CLAIM: "registry-admin"}
    return {
        "bad signature": f"{header}.{payload}.{other_signature}",
        "alg none": jwt.encode(admin, key=None, algorithm="none"),
        "HS256 keyed with the public key": _hs256(admin, public_pem),
        "wrong issuer": found.token(iss="https://evil.example"),
        "wrong audience": found.token(aud="nhn:another-api"),
        "expired": found.token(exp=now - 600, iat=now - 900, nbf=now - 900),
        "not yet valid": found.token(nbf=now + 600),
        "no expiry": found.token(exp=None),
        "unknown key id": found.token(_kid="no-such-key"),
        "not a JWT": "not-a-token",
        "unknown role": found.token(role="superuser"),
    }


def _hs256(claims: dict, secret: bytes) -> str:
    """The classic confusion attack: HMAC keyed with the issuer's public key (PyJWT refuses to make one)."""
    import base64
    import hashlib
    import hmac
    import json

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + part(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


def test_tampered_tokens_are_refused(bearer_client):
    client, found = bearer_client
    for case, token in _tampered(found).items():
        response = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"})
        expected = 403 if case == "unknown role" else 401
        assert response.status_code == expected, (case, response.text)
        assert response.json()["resourceType"] == "OperationOutcome", case


def test_keys_rotate(bearer_client):
    """A token signed with a key the issuer has just started publishing is accepted (the JWKS is refetched)."""
    client, found = bearer_client
    assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {found.token()}"}).status_code == 200
    fetches = found.fetches
    found.rotate()
    response = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {found.token()}"})
    assert response.status_code == 200, response.text
    assert found.fetches > fetches


def test_smart_configuration_tells_clients_where_tokens_come_from(dpop_client, client):
    jwt_mode, _ = dpop_client
    found = jwt_mode.get("/fhir/.well-known/smart-configuration")
    assert found.status_code == 200  # no token needed
    document = found.json()
    assert document["issuer"] == ISSUER and document["jwks_uri"].endswith("/jwks.json")
    assert "ES256" in document["dpop_signing_alg_values_supported"]
    assert "permission-v2" in document["capabilities"]
    dev = client.get("/fhir/.well-known/smart-configuration").json()
    assert dev["issuer"] == "urn:ryggrad:dev-issuer" and "jwks_uri" not in dev
