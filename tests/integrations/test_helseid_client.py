"""The outbound HelseID client against the HelseID stand-in over real HTTP, and the server's inbound validation of
the stand-in's DPoP-bound tokens (a server on 127.0.0.1 configured to trust it)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fhir_server.http.app import create_app
from fhir_server.integrations.helseid import HelseIdClient, HelseIdError, load_signing_key
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from tests.served import served_in_thread
from tests.standins.helseid import HelseIdStandIn, RegisteredClient
from tests.subscriptions.receiver import Receiver

SCOPES = ["nhn:ryggrad/system/Patient.rs"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rfc7638_thumbprint(jwk: dict[str, Any]) -> str:
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[jwk["kty"]]
    canonical = json.dumps({m: jwk[m] for m in sorted(members)}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


def write_pem(path: Path, key: rsa.RSAPrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def public_jwk(key: Any) -> dict[str, Any]:
    return jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)


@pytest.fixture
def registered(helseid: HelseIdStandIn, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, Path]:
    """A client registered at the stand-in (its id is the test's name) and its private key as a PEM file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client_id = f"ryggrad-{request.node.name}"
    helseid.register(RegisteredClient(client_id, public_jwk(key), set(SCOPES)))
    return client_id, write_pem(tmp_path / "client.pem", key)


def make_client(stand_in: HelseIdStandIn, client_id: str, key_file: Path, **options: Any) -> HelseIdClient:
    options.setdefault("scopes", SCOPES)
    return HelseIdClient(
        token_endpoint=stand_in.token_endpoint,
        client_id=client_id,
        signing_key=load_signing_key(key_file, options.pop("kid", None)),
        **options,
    )


def verified_claims(stand_in: HelseIdStandIn, token: str) -> dict[str, Any]:
    key = jwt.PyJWKClient(stand_in.jwks_uri).get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], audience="nhn:ryggrad", issuer=stand_in.issuer)


def test_a_token_is_obtained_bound_to_the_clients_dpop_key(helseid, registered):
    client_id, key_file = registered
    client = make_client(helseid, client_id, key_file)
    claims = verified_claims(helseid, client.access_token())
    assert claims["cnf"] == {"jkt": rfc7638_thumbprint(client.dpop_key.public_jwk())}
    assert claims["client_id"] == client_id
    assert claims["scope"] == "nhn:ryggrad/system/Patient.rs"
    assert claims["helseid://claims/client/claims/orgnr_parent"] == "974589095"


def test_the_token_is_cached_and_fetched_again_before_it_expires(registered):
    client_id, key_file = registered
    short_lived = HelseIdStandIn(token_lifetime_s=3)
    try:
        short_lived.register(RegisteredClient(client_id, public_jwk(load_signing_key(key_file).key), set(SCOPES)))
        client = make_client(short_lived, client_id, key_file, refresh_skew_s=2)
        first = {client.access_token() for _ in range(5)}
        assert len(first) == 1 and len(short_lived.issued(client_id)) == 1
        time.sleep(1.2)  # within the skew of the expiry now
        second = client.access_token()
        assert second not in first and client.access_token() == second
        assert len(short_lived.issued(client_id)) == 2
    finally:
        short_lived.close()


def test_settings_configure_the_client_through_the_issuers_discovery_document(helseid, registered, tmp_path):
    client_id, key_file = registered
    settings = Settings(
        data_dir=tmp_path,
        helseid_issuer=helseid.issuer,
        helseid_client_id=client_id,
        helseid_key_file=key_file,
        helseid_scopes=SCOPES,
    )
    client = HelseIdClient.from_settings(settings)
    assert client.token_endpoint == helseid.token_endpoint
    assert verified_claims(helseid, client.access_token())["client_id"] == client_id
    client.close()


def test_a_wrong_key_is_refused_as_invalid_client(helseid, registered, tmp_path):
    client_id, _ = registered
    other = write_pem(tmp_path / "other.pem", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    client = make_client(helseid, client_id, other)
    with pytest.raises(HelseIdError) as refused:
        client.access_token()
    assert refused.value.error == "invalid_client" and refused.value.status == 401
    assert "eyJ" not in str(refused.value)  # no assertion or token in the message


def test_a_scope_not_allowed_is_refused_as_invalid_scope(helseid, registered):
    client_id, key_file = registered
    client = make_client(helseid, client_id, key_file, scopes=["nhn:ryggrad/system/*.cruds"])
    with pytest.raises(HelseIdError) as refused:
        client.access_token()
    assert refused.value.error == "invalid_scope"


def test_a_key_is_chosen_by_kid_from_a_jwk_set(helseid, tmp_path):
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(2)]
    jwks = {
        "keys": [{**jwt.algorithms.ECAlgorithm.to_jwk(k, as_dict=True), "kid": f"k{i}"} for i, k in enumerate(keys)]
    }
    (tmp_path / "client.jwks").write_text(json.dumps(jwks))
    public = jwt.algorithms.ECAlgorithm.to_jwk(keys[1].public_key(), as_dict=True)
    helseid.register(RegisteredClient("ryggrad-jwks", public, set(SCOPES)))
    with pytest.raises(ValueError, match="kid"):
        load_signing_key(tmp_path / "client.jwks")
    client = make_client(helseid, "ryggrad-jwks", tmp_path / "client.jwks", kid="k1")
    assert verified_claims(helseid, client.access_token())["client_id"] == "ryggrad-jwks"
    assert jwt.get_unverified_header(client.client_assertion())["kid"] == "k1"


def test_a_dpop_nonce_challenge_is_answered_once(registered):
    client_id, key_file = registered
    strict = HelseIdStandIn(require_nonce=True)
    try:
        strict.register(RegisteredClient(client_id, public_jwk(load_signing_key(key_file).key), set(SCOPES)))
        client = make_client(strict, client_id, key_file)
        assert client.access_token()
        assert [r.outcome for r in strict.requests] == ["use_dpop_nonce", "issued"]
    finally:
        strict.close()


def test_a_resource_request_carries_a_fresh_proof_for_its_method_url_and_token(helseid, registered):
    client_id, key_file = registered
    client = make_client(helseid, client_id, key_file)
    receiver = Receiver()
    try:
        with httpx.Client(auth=client.auth()) as http:
            for _ in range(2):
                http.post(f"{receiver.url}/fhir/Bundle?_format=json", json={"resourceType": "Bundle"})
        token = client.access_token()
        proofs = []
        for received in receiver.snapshot():
            assert received.headers["authorization"] == f"DPoP {token}"
            proof = received.headers["dpop"]
            header = jwt.get_unverified_header(proof)
            assert header["typ"] == "dpop+jwt" and "d" not in header["jwk"]
            proofs.append(jwt.decode(proof, jwt.PyJWK(header["jwk"]).key, algorithms=[header["alg"]]))
        assert len(proofs) == 2 and proofs[0]["jti"] != proofs[1]["jti"]
        for claims in proofs:
            assert claims["htm"] == "POST"
            assert claims["htu"] == f"{receiver.url}/fhir/Bundle"
            assert claims["ath"] == b64url(hashlib.sha256(token.encode()).digest())
        assert len(helseid.issued(client_id)) == 1
    finally:
        receiver.stop()


# -- the server trusting the stand-in ------------------------------------------------------------------------------
@contextmanager
def serving(server: FhirServer, stand_in: HelseIdStandIn, tmp_path: Path) -> Iterator[str]:
    """The FHIR server on 127.0.0.1 (uvicorn in a thread) in jwt mode, trusting the stand-in; yields its base."""

    def app(base: str) -> Any:
        settings = Settings(
            data_dir=tmp_path,
            database_url=str(server.db.url),
            base_url=base,
            auth="jwt",
            auth_issuer=stand_in.issuer,
            auth_jwks_url=stand_in.jwks_uri,
            auth_audience="nhn:ryggrad",
            rate_limit_per_minute=0,
        )
        return create_app(server=FhirServer(settings, db=server.db, definitions=server.definitions))

    with served_in_thread(app) as base:
        yield base


def test_the_server_accepts_the_stand_ins_dpop_token_and_refuses_it_with_another_keys_proof(
    server, helseid, registered, tmp_path
):
    client_id, key_file = registered
    client = make_client(helseid, client_id, key_file)
    with serving(server, helseid, tmp_path) as base, httpx.Client(timeout=30) as http:
        accepted = http.get(f"{base}/Patient?_count=1", auth=client.auth())
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["resourceType"] == "Bundle"

        token = client.access_token()
        thief = make_client(helseid, client_id, key_file)  # same client registration, another DPoP key
        stolen = {"Authorization": f"DPoP {token}", "DPoP": thief.proof("GET", f"{base}/Patient", token)}
        refused = http.get(f"{base}/Patient", headers=stolen)
        assert refused.status_code == 401
        assert "another key" in refused.text
        assert "DPoP" in refused.headers["www-authenticate"]
        assert http.get(f"{base}/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 401
