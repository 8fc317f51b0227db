"""A HelseID stand-in on 127.0.0.1: discovery, JWKS and a token endpoint for machine clients.

``/connect/token`` grants ``client_credentials`` to registered clients that authenticate with a ``private_key_jwt``
client assertion (RFC 7523: signed by the client's registered key, ``iss`` = ``sub`` = client id, ``aud`` = the token
endpoint, unexpired, ``jti`` used once) and prove a key with a DPoP proof (RFC 9449). The access token is bound to
that key (``cnf.jkt``) and carries HelseID's claims (``client_id``, ``scope``, ``aud`` ``nhn:<api>``,
``helseid://claims/client/claims/orgnr_parent``). With ``require_nonce`` it first answers ``use_dpop_nonce``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from fhir_server.auth.dpop import normalise_url, thumbprint
from fhir_server.auth.tokens import ALGORITHMS, InvalidToken
from tests.standins.loopback import LoopbackServer

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ORGNR_PARENT = "helseid://claims/client/claims/orgnr_parent"
PROOF_MAX_AGE_S = 60
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


class OAuthError(Exception):
    """An OAuth2 error answer: ``{"error": code, "error_description": description}``."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


@dataclass
class RegisteredClient:
    client_id: str
    public_jwk: dict[str, Any]
    allowed_scopes: set[str]
    orgnr_parent: str = "974589095"
    extra_claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class TokenRequest:
    """What the token endpoint saw (for tests to count and inspect)."""

    client_id: str | None
    outcome: str  # "issued" or the OAuth2 error code
    at: float


class HelseIdStandIn:
    def __init__(self, token_lifetime_s: int = 300, require_nonce: bool = False) -> None:
        self.token_lifetime_s = token_lifetime_s
        self.require_nonce = require_nonce
        self.clients: dict[str, RegisteredClient] = {}
        self.requests: list[TokenRequest] = []
        self.signing_kid = uuid.uuid4().hex[:12]
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.nonce = uuid.uuid4().hex
        self._assertion_jtis: set[str] = set()
        self._proof_jtis: set[str] = set()
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler())
        self.port = self._http.port

    # -- addresses ---------------------------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/connect/token"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    def close(self) -> None:
        self._http.stop()

    # -- registration and the documents served -------------------------------------------------------------------
    def register(self, client: RegisteredClient) -> RegisteredClient:
        if any(m in client.public_jwk for m in _PRIVATE_MEMBERS):
            raise ValueError("register the client's public key, not its private key")
        self.clients[client.client_id] = client
        return client

    def issued(self, client_id: str | None = None) -> list[TokenRequest]:
        with self._lock:
            return [r for r in self.requests if r.outcome == "issued" and client_id in (None, r.client_id)]

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "token_endpoint": self.token_endpoint,
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
            "dpop_signing_alg_values_supported": ALGORITHMS,
        }

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.signing_key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.signing_kid, "use": "sig", "alg": "RS256"}]}

    # -- the token endpoint ----------------------------------------------------------------------------------------
    def grant(self, form: dict[str, str], dpop_header: str | None) -> dict[str, Any]:
        """The token response for a client credentials request, or ``OAuthError``."""
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type", "only client_credentials is granted")
        client = self._authenticate_client(form)
        jkt = self._verify_proof(dpop_header)
        requested = form.get("scope", "").split()
        if not requested or not set(requested) <= client.allowed_scopes:
            raise OAuthError("invalid_scope", "a requested scope is not allowed for this client")
        apis = sorted({scope.split("/", 1)[0] for scope in requested if scope.startswith("nhn:")})
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": apis[0] if len(apis) == 1 else apis,
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime_s,
            "jti": uuid.uuid4().hex,
            "client_id": client.client_id,
            "scope": " ".join(requested),
            "cnf": {"jkt": jkt},
            ORGNR_PARENT: client.orgnr_parent,
            **client.extra_claims,
        }
        token = jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": self.signing_kid})
        return {
            "access_token": token,
            "token_type": "DPoP",
            "expires_in": self.token_lifetime_s,
            "scope": claims["scope"],
        }

    def _authenticate_client(self, form: dict[str, str]) -> RegisteredClient:
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise OAuthError("invalid_client", "a private_key_jwt client assertion is required", 401)
        assertion = form["client_assertion"]
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_client", "the client assertion is not a JWT", 401) from exc
        client = self.clients.get(str(unverified.get("iss")))
        if client is None or form.get("client_id") not in (None, client.client_id):
            raise OAuthError("invalid_client", "unknown client", 401)
        if header.get("alg") not in ALGORITHMS:
            raise OAuthError("invalid_client", "the client assertion's algorithm is not accepted", 401)
        try:
            key = jwt.PyJWK(client.public_jwk, algorithm=header["alg"]).key
            claims = jwt.decode(
                assertion,
                key,
                algorithms=[header["alg"]],
                audience=self.token_endpoint,
                issuer=client.client_id,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_client", f"the client assertion does not verify ({exc})", 401) from exc
        if claims["sub"] != client.client_id:
            raise OAuthError("invalid_client", "the client assertion's sub is not the client id", 401)
        with self._lock:
            if claims["jti"] in self._assertion_jtis:
                raise OAuthError("invalid_client", "the client assertion was used before", 401)
            self._assertion_jtis.add(claims["jti"])
        return client

    def _verify_proof(self, proof: str | None) -> str:
        """The proof key's thumbprint, after checking the proof made for this token request."""
        if not proof:
            raise OAuthError("invalid_dpop_proof", "a DPoP proof is required")
        try:
            header = jwt.get_unverified_header(proof)
            jwk = header.get("jwk")
            if header.get("typ") != "dpop+jwt" or header.get("alg") not in ALGORITHMS:
                raise OAuthError("invalid_dpop_proof", "the proof's typ or alg is not accepted")
            if not isinstance(jwk, dict) or any(m in jwk for m in _PRIVATE_MEMBERS):
                raise OAuthError("invalid_dpop_proof", "the proof must carry a public jwk")
            claims = jwt.decode(
                proof,
                jwt.PyJWK(jwk, algorithm=header["alg"]).key,
                algorithms=[header["alg"]],
                options={"require": ["jti", "htm", "htu", "iat"], "verify_iat": False},
            )
            jkt = thumbprint(jwk)
        except (jwt.PyJWTError, InvalidToken) as exc:
            raise OAuthError("invalid_dpop_proof", f"the proof does not verify ({exc})") from exc
        if claims["htm"] != "POST" or normalise_url(str(claims["htu"])) != normalise_url(self.token_endpoint):
            raise OAuthError("invalid_dpop_proof", "the proof is for another method or URL")
        if not isinstance(claims["iat"], int | float) or abs(time.time() - claims["iat"]) > PROOF_MAX_AGE_S:
            raise OAuthError("invalid_dpop_proof", "the proof is too old or from the future")
        if self.require_nonce and claims.get("nonce") != self.nonce:
            raise OAuthError("use_dpop_nonce", "the authorization server requires a nonce in the DPoP proof")
        with self._lock:
            if claims["jti"] in self._proof_jtis:
                raise OAuthError("invalid_dpop_proof", "the proof was used before")
            self._proof_jtis.add(claims["jti"])
        return jkt

    # -- HTTP ------------------------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    self._answer(200, stand_in.discovery())
                elif self.path == "/jwks":
                    self._answer(200, stand_in.jwks())
                else:
                    self._answer(404, {"error": "not_found"})

            def do_POST(self) -> None:
                if self.path != "/connect/token":
                    self._answer(404, {"error": "not_found"})
                    return
                length = int(self.headers.get("content-length") or 0)
                raw = parse_qs(self.rfile.read(length).decode("ascii", "replace"))
                form = {name: values[0] for name, values in raw.items()}
                proofs = self.headers.get_all("DPoP") or []
                client_id = form.get("client_id")
                try:
                    if len(proofs) > 1:
                        raise OAuthError("invalid_dpop_proof", "one DPoP header is allowed")
                    body = stand_in.grant(form, proofs[0] if proofs else None)
                except OAuthError as exc:
                    with stand_in._lock:
                        stand_in.requests.append(TokenRequest(client_id, exc.code, time.time()))
                    headers = {"DPoP-Nonce": stand_in.nonce} if exc.code == "use_dpop_nonce" else {}
                    self._answer(exc.status, {"error": exc.code, "error_description": exc.description}, headers)
                    return
                with stand_in._lock:
                    stand_in.requests.append(TokenRequest(client_id, "issued", time.time()))
                headers = {"DPoP-Nonce": stand_in.nonce} if stand_in.require_nonce else {}
                self._answer(200, body, headers)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
