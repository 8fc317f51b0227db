"""HelseID for Ryggrad's own outbound calls: OAuth2 client credentials with a ``private_key_jwt`` client assertion
(RFC 7523) and DPoP-bound access tokens (RFC 9449), as HelseID requires of machine clients.

The client's private key comes from a PEM file or a JWK (a single JWK, or one key chosen by ``kid`` from a JWK set);
the DPoP key is a separate P-256 key made per ``HelseIdClient``. Tokens are cached and fetched again ``refresh_skew_s``
before they expire; a ``use_dpop_nonce`` challenge is answered once. Other code calls APIs through ``HelseIdAuth``::

    client = HelseIdClient.from_settings(settings)
    with httpx.Client(auth=client.auth()) as http:
        http.get("https://api.example/fhir/Patient")   # Authorization: DPoP <token>, DPoP: <fresh proof>

``HelseIdError`` carries the OAuth2 ``error`` code and description; never the assertion, key or token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fhir_server.settings import Settings

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 60
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class HelseIdError(Exception):
    """HelseID refused (``error``: the OAuth2 error code, e.g. ``invalid_client``) or could not be reached."""

    def __init__(self, error: str, description: str | None = None, status: int | None = None) -> None:
        self.error = error
        self.description = description
        self.status = status
        detail = f": {description}" if description else ""
        super().__init__(f"HelseID: {error}{detail}" + (f" (HTTP {status})" if status else ""))


@dataclass(frozen=True)
class SigningKey:
    """A private key with the JWS algorithm it signs with and its key id (``kid``) if it has one."""

    key: Any
    algorithm: str
    kid: str | None = None

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        extra = dict(headers or {})
        if self.kid:
            extra.setdefault("kid", self.kid)
        return jwt.encode(claims, self.key, algorithm=self.algorithm, headers=extra)

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (for a DPoP proof's header, or to register the client)."""
        return _private_to_public_jwk(self.key)


def _algorithm_for(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGORITHMS:
        return _EC_ALGORITHMS[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise ValueError("the key must be an RSA, EC (P-256/384/521) or Ed25519 private key")


def _private_to_public_jwk(key: Any) -> dict[str, Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    if isinstance(public, ec.EllipticCurvePublicKey):
        return jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    return jwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True)


def load_signing_key(path: Path, kid: str | None = None) -> SigningKey:
    """The client's private key from a PEM file, a JWK file, or a JWK set file (``kid`` picks the key; a set of one
    needs none). A JWK's own ``alg`` is used where it names one."""
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        return SigningKey(key, _algorithm_for(key), kid)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path.name} is neither a PEM private key nor a JWK") from exc
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        keys = [k for k in document["keys"] if isinstance(k, dict) and (kid is None or k.get("kid") == kid)]
        if len(keys) != 1:
            wanted = f"the key {kid!r}" if kid else "one key (name it by kid)"
            raise ValueError(f"{path.name}: the JWK set has not exactly {wanted}")
        document = keys[0]
    if not isinstance(document, dict) or "d" not in document:
        raise ValueError(f"{path.name} holds no private JWK")
    if kid is not None and document.get("kid") not in (None, kid):
        raise ValueError(f"{path.name}: the JWK's kid is not {kid!r}")
    key = jwt.PyJWK.from_dict(document).key
    return SigningKey(key, str(document.get("alg") or _algorithm_for(key)), kid or document.get("kid"))


def new_dpop_key() -> SigningKey:
    return SigningKey(ec.generate_private_key(ec.SECP256R1()), "ES256")


def access_token_hash(token: str) -> str:
    """A DPoP proof's ``ath``: base64url(SHA-256(token))."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def _htu(url: str | httpx.URL) -> str:
    """The proof's ``htu``: the URL without query and fragment."""
    return str(httpx.URL(str(url)).copy_with(query=None, fragment=None))


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float
    scope: str


class HelseIdClient:
    def __init__(
        self,
        *,
        token_endpoint: str,
        client_id: str,
        signing_key: SigningKey,
        scopes: Sequence[str],
        dpop_key: SigningKey | None = None,
        refresh_skew_s: float = 60.0,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_endpoint = token_endpoint
        self.client_id = client_id
        self.signing_key = signing_key
        self.scopes = list(scopes)
        self.dpop_key = dpop_key or new_dpop_key()
        self.refresh_skew_s = refresh_skew_s
        self.clock = clock
        self._http = http or httpx.Client(timeout=10.0)
        self._token: AccessToken | None = None
        self._nonce: str | None = None  # the token endpoint's last DPoP-Nonce
        self._lock = threading.Lock()
        self._dpop_jwk = self.dpop_key.public_jwk()

    @classmethod
    def from_settings(
        cls, settings: Settings, http: httpx.Client | None = None, scopes: Sequence[str] | None = None
    ) -> HelseIdClient:
        """Configured by ``RYGGRAD_HELSEID_*``; without a token endpoint it is read from the issuer's discovery
        document. ``scopes``: another API's scopes instead of ``RYGGRAD_HELSEID_SCOPES`` (its own audience)."""
        scopes = list(scopes) if scopes else settings.helseid_scopes
        if not settings.helseid_client_id or not settings.helseid_key_file or not scopes:
            raise ValueError("HelseID needs RYGGRAD_HELSEID_CLIENT_ID, RYGGRAD_HELSEID_KEY_FILE and ..._SCOPES")
        http = http or httpx.Client(timeout=10.0)
        endpoint = settings.helseid_token_endpoint
        if not endpoint:
            if not settings.helseid_issuer:
                raise ValueError("HelseID needs RYGGRAD_HELSEID_TOKEN_ENDPOINT or RYGGRAD_HELSEID_ISSUER")
            endpoint = discover_token_endpoint(settings.helseid_issuer, http)
        return cls(
            token_endpoint=endpoint,
            client_id=settings.helseid_client_id,
            signing_key=load_signing_key(settings.helseid_key_file, settings.helseid_key_id),
            scopes=scopes,
            refresh_skew_s=settings.helseid_refresh_skew_s,
            http=http,
        )

    # -- JWTs --------------------------------------------------------------------------------------------------
    def client_assertion(self) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_endpoint,
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME_S,
            "jti": uuid.uuid4().hex,
        }
        return self.signing_key.sign(claims, {"typ": "client-authentication+jwt"})

    def proof(
        self, method: str, url: str | httpx.URL, access_token: str | None = None, nonce: str | None = None
    ) -> str:
        """A fresh DPoP proof for one request (with ``ath`` when it carries an access token)."""
        claims: dict[str, Any] = {
            "jti": uuid.uuid4().hex,
            "htm": method.upper(),
            "htu": _htu(url),
            "iat": int(self.clock()),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        return self.dpop_key.sign(claims, {"typ": "dpop+jwt", "jwk": self._dpop_jwk})

    # -- tokens ------------------------------------------------------------------------------------------------
    def access_token(self) -> str:
        """A DPoP-bound access token: the cached one until ``refresh_skew_s`` before it expires."""
        with self._lock:
            if self._token is None or self.clock() >= self._token.expires_at - self.refresh_skew_s:
                self._token = self._request_token()
            return self._token.value

    def forget_token(self) -> None:
        with self._lock:
            self._token = None

    def _request_token(self) -> AccessToken:
        response = self._post_token_request()
        if (
            response.status_code == 400
            and _error_code(response) == "use_dpop_nonce"
            and "dpop-nonce" in response.headers
        ):
            response = self._post_token_request()  # once, with the nonce just given
        if response.status_code != 200:
            raise _error_from(response)
        try:
            body = response.json()
            value, token_type = str(body["access_token"]), str(body.get("token_type", ""))
            lifetime = float(body.get("expires_in", 0))
        except (ValueError, KeyError, TypeError) as exc:
            raise HelseIdError("invalid_response", "the token response is not an access token", 200) from exc
        if token_type.lower() != "dpop":
            raise HelseIdError("invalid_response", f"expected a DPoP-bound token, got token_type {token_type!r}")
        return AccessToken(value, self.clock() + lifetime, str(body.get("scope", " ".join(self.scopes))))

    def _post_token_request(self) -> httpx.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "scope": " ".join(self.scopes),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
        }
        headers = {"DPoP": self.proof("POST", self.token_endpoint, nonce=self._nonce)}
        try:
            response = self._http.post(self.token_endpoint, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise HelseIdError(
                "unreachable", f"the token endpoint could not be reached ({type(exc).__name__})"
            ) from exc
        if "dpop-nonce" in response.headers:
            self._nonce = response.headers["dpop-nonce"]
        return response

    def auth(self) -> HelseIdAuth:
        return HelseIdAuth(self)

    def close(self) -> None:
        self._http.close()


class HelseIdAuth(httpx.Auth):
    """Adds ``Authorization: DPoP <token>`` and a fresh ``DPoP`` proof to each request (for ``httpx.Client``); a
    resource server's ``use_dpop_nonce`` challenge is answered once, with its nonce in a new proof."""

    def __init__(self, client: HelseIdClient) -> None:
        self.client = client
        self._nonces: dict[str, str] = {}  # the resource servers' last DPoP-Nonce, by origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.client.access_token()
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        self._sign(request, token, self._nonces.get(origin))
        response = yield request
        nonce = response.headers.get("dpop-nonce")
        if nonce:
            self._nonces[origin] = nonce
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code == 401 and nonce and "use_dpop_nonce" in challenge:
            self._sign(request, token, nonce)
            yield request

    def _sign(self, request: httpx.Request, token: str, nonce: str | None) -> None:
        request.headers["Authorization"] = f"DPoP {token}"
        request.headers["DPoP"] = self.client.proof(request.method, request.url, token, nonce)


def is_configured(settings: Settings) -> bool:
    """Whether the settings name a HelseID client: its id, its key, and the issuer or its token endpoint."""
    return bool(
        settings.helseid_client_id
        and settings.helseid_key_file
        and (settings.helseid_token_endpoint or settings.helseid_issuer)
    )


def discover_token_endpoint(issuer: str, http: httpx.Client) -> str:
    """The ``token_endpoint`` of the issuer's OpenID configuration."""
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        response = http.get(url)
        response.raise_for_status()
        return str(response.json()["token_endpoint"])
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise HelseIdError("discovery_failed", f"no token endpoint at {url} ({type(exc).__name__})") from exc


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body["error"]) if isinstance(body, dict) and body.get("error") else None


def _error_from(response: httpx.Response) -> HelseIdError:
    """An OAuth2 error answer as ``HelseIdError`` (code and description only, cut short)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("error") or "http_error")
    description = body.get("error_description")
    return HelseIdError(code, str(description)[:300] if description else None, response.status_code)


MAX_SHARED = 8  # clients kept per process (one per configuration and scope set; more only when settings change)
_shared: dict[tuple[Any, ...], HelseIdAuth] = {}
_shared_lock = threading.Lock()


def shared_auth(settings: Settings, scopes: Sequence[str]) -> HelseIdAuth | None:
    """The process's HelseID authentication for ``scopes`` (one API's audience), made at first use and kept, so its
    cached token serves every call until it is due for refresh; None when no HelseID client is configured. Raises
    ``HelseIdError`` (discovery), ``ValueError`` or ``OSError`` (the key) when the client cannot be made."""
    if not is_configured(settings):
        return None
    key = (
        settings.helseid_issuer,
        settings.helseid_token_endpoint,
        settings.helseid_client_id,
        str(settings.helseid_key_file),
        settings.helseid_key_id,
        tuple(scopes),
        settings.helseid_refresh_skew_s,
    )
    with _shared_lock:
        auth = _shared.get(key)
        if auth is None:
            auth = HelseIdClient.from_settings(settings, scopes=list(scopes)).auth()
            while len(_shared) >= MAX_SHARED:
                _shared.pop(next(iter(_shared)))
            _shared[key] = auth
        return auth
