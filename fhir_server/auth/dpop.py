"""DPoP (RFC 9449): a token bound to the client's key (``cnf.jkt``) is used only with a fresh proof signed by that
key — for this method and URL (``htm``, ``htu``), this token (``ath``), recently (``iat``), once (``jti``)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt

from fhir_server.auth.replay import ReplayCache
from fhir_server.auth.tokens import ALGORITHMS, InvalidToken

MAX_AGE_S = 300  # how old a proof may be (plus the leeway)
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict[str, Any]) -> str:
    """The JWK SHA-256 thumbprint (RFC 7638): the required members, sorted, without spaces."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or any(not isinstance(jwk.get(m), str) for m in members):
        raise InvalidToken("the DPoP proof's key is not an EC, RSA or OKP public key")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(token: str) -> str:
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


def normalise_url(url: str) -> str:
    """``htu`` compares scheme, host, port and path (no query or fragment), case-insensitive host."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))


def verify_proof(
    proof: str,
    *,
    method: str,
    url: str,
    access_token: str,
    jkt: str,
    replay: ReplayCache,
    leeway_s: int,
    now: float | None = None,
) -> None:
    """Raise ``InvalidToken`` unless ``proof`` is a valid DPoP proof for this request and token."""
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError as exc:
        raise InvalidToken("the DPoP proof is not a JWT") from exc
    if header.get("typ") != "dpop+jwt":
        raise InvalidToken("the DPoP proof's typ is not dpop+jwt")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidToken(f"the DPoP proof's algorithm {algorithm!r} is not accepted")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or any(m in jwk for m in _PRIVATE_MEMBERS):
        raise InvalidToken("the DPoP proof must carry the client's public key (jwk)")
    if thumbprint(jwk) != jkt:
        raise InvalidToken("the DPoP proof is signed by another key than the token is bound to")
    try:
        key = jwt.PyJWK(jwk, algorithm=algorithm).key
        claims = jwt.decode(
            proof,
            key,
            algorithms=[algorithm],
            options={"require": ["iat", "jti", "htm", "htu"], "verify_aud": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the DPoP proof does not verify ({exc})") from exc
    moment = time.time() if now is None else now
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or abs(moment - issued) > MAX_AGE_S + leeway_s:
        raise InvalidToken("the DPoP proof is too old or from the future")
    if claims.get("htm") != method:
        raise InvalidToken("the DPoP proof is for another HTTP method")
    if not isinstance(claims.get("htu"), str) or normalise_url(claims["htu"]) != normalise_url(url):
        raise InvalidToken("the DPoP proof is for another URL")
    if claims.get("ath") != access_token_hash(access_token):
        raise InvalidToken("the DPoP proof is for another access token")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 200:
        raise InvalidToken("the DPoP proof has no usable jti")
    if not replay.first_use(f"{jkt}:{jti}", issued + MAX_AGE_S + 2 * leeway_s):
        raise InvalidToken("the DPoP proof was used before")
