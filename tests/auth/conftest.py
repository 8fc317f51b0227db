"""An issuer of our own for the jwt mode: RSA keys, a JWKS served over real HTTP, tokens and DPoP proofs."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.testclient import TestClient

from fhir_server.auth.dpop import access_token_hash, thumbprint
from fhir_server.http.app import create_app
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from tests.conftest import BASE_URL

ISSUER = "https://helseid-sts.test.example"
AUDIENCE = "nhn:ryggrad"
ROLE_CLAIM = "https://ryggrad.no/claims/role"


class Issuer:
    """Signs access tokens with the key its JWKS currently publishes; ``rotate`` publishes a new one."""

    def __init__(self) -> None:
        self.keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.rotate()
        self.fetches = 0

    def rotate(self) -> None:
        self.keys.append((uuid.uuid4().hex[:8], rsa.generate_private_key(public_exponent=65537, key_size=2048)))

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def token(self, role: str | None = "clinician", *, scope: str = "user/*.cruds", **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "client_id": "test-client",
            "scope": scope,
            "helseid://claims/client/claims/orgnr_parent": "974589095",
        }
        if role is not None:
            claims[ROLE_CLAIM] = role
        key_id = overrides.pop("_kid", None)
        signing_key = overrides.pop("_key", None)
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        kid, key = self.keys[-1]
        return jwt.encode(claims, signing_key or key, algorithm="RS256", headers={"kid": key_id or kid})


class DpopKey:
    """A client's DPoP key pair and the proofs it signs."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.jkt = thumbprint(self.jwk)

    def proof(self, method: str, url: str, token: str, **overrides: Any) -> str:
        claims: dict[str, Any] = {
            "jti": uuid.uuid4().hex,
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
            "ath": access_token_hash(token),
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk})


@pytest.fixture(scope="session")
def issuer() -> Iterator[tuple[Issuer, str]]:
    """The issuer and its JWKS URL (a real HTTP server on a free port)."""
    found = Issuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.fetches += 1
            body = json.dumps(found.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield found, f"http://127.0.0.1:{http.server_address[1]}/jwks.json"
    http.shutdown()


def jwt_client(server: FhirServer, jwks_url: str, tmp_path: Any, **settings: Any) -> TestClient:
    """A client of the same database, served in jwt mode (tokens of ``ISSUER`` only)."""
    configured = Settings(
        data_dir=tmp_path,
        database_url=str(server.db.url),
        base_url=BASE_URL,
        auth="jwt",
        auth_issuer=ISSUER,
        auth_jwks_url=jwks_url,
        **settings,
    )
    jwt_server = FhirServer(configured, db=server.db, definitions=server.definitions)
    return TestClient(create_app(server=jwt_server), base_url="http://testserver")
