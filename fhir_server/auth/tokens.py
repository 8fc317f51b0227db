"""Access tokens: a JWT signed by the configured issuer (keys from its JWKS, cached and refetched when a new key id
appears) or, in ``dev`` mode, by the development issuer; issuer, audience, ``exp``/``nbf``/``iat`` checked with a
small leeway. Only asymmetric algorithms: ``alg: none`` and shared-secret HMAC tokens are refused outright."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import jwt

from fhir_server.auth.dev_issuer import DEV_ISSUER, DevIssuer
from fhir_server.settings import Settings

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
JWKS_LIFESPAN_S = 3600


class InvalidToken(Exception):
    """The token is not acceptable; the message says why (it goes into the 401's OperationOutcome)."""


CACHE_SIZE = 10_000


class TokenVerifier:
    """``verify(token)`` → claims. A token verified once is remembered until it expires (a client sends the same
    token with every request; its signature need not be checked each time)."""

    def __init__(self, settings: Settings, dev_issuer: DevIssuer | None = None) -> None:
        self.settings = settings
        self.dev_issuer = dev_issuer
        self._jwks: jwt.PyJWKClient | None = None
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        if settings.auth == "dev":
            if dev_issuer is None:
                raise ValueError("dev mode needs the development issuer")
            self.issuer = DEV_ISSUER
        else:
            if not settings.auth_issuer or not settings.auth_jwks_url:
                raise ValueError(
                    "RYGGRAD_AUTH=jwt needs RYGGRAD_AUTH_ISSUER and RYGGRAD_AUTH_JWKS_URL "
                    "(for local development: RYGGRAD_AUTH=dev)"
                )
            self.issuer = settings.auth_issuer
            self._jwks = jwt.PyJWKClient(
                settings.auth_jwks_url,
                lifespan=JWKS_LIFESPAN_S,
                timeout=5,
                cooldown_duration=settings.auth_jwks_cooldown_s,
            )

    def _key(self, token: str, header: dict[str, Any]) -> Any:
        if self._jwks is None:
            assert self.dev_issuer is not None
            return self.dev_issuer.public_key
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientError as exc:
            raise InvalidToken(f"no key of the issuer matches the token's key id ({exc})") from exc

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or ``InvalidToken``."""
        with self._lock:
            claims = self._verified.get(token)
            if claims is not None:
                self._verified.move_to_end(token)
        if claims is not None:
            now = time.time()
            leeway = self.settings.auth_leeway_s
            if claims["exp"] + leeway > now and claims.get("nbf", 0) - leeway <= now:
                return claims
            with self._lock:
                self._verified.pop(token, None)
        claims = self._verify(token)
        with self._lock:
            self._verified[token] = claims
            while len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("the access token is not a JWT") from exc
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken(f"the algorithm {header.get('alg')!r} is not accepted")
        key = self._key(token, header)
        try:
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.settings.auth_audience,
                issuer=self.issuer,
                leeway=self.settings.auth_leeway_s,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the access token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("the access token is not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("the access token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("the access token is from another issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("the access token's signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the access token is not acceptable ({exc})") from exc
