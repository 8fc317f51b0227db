"""The HTTP side: ``Authorization: DPoP <token>`` with a ``DPoP`` proof header (or, where allowed,
``Authorization: Bearer <token>``) → a ``Principal``; anything else → 401 with ``WWW-Authenticate``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server.auth.dpop import verify_proof
from fhir_server.auth.one_time_codes import SESSION_PREFIX
from fhir_server.auth.principal import Principal, UnknownRole, principal_from_claims
from fhir_server.auth.replay import ReplayCache
from fhir_server.auth.tokens import ALGORITHMS, InvalidToken, TokenVerifier
from fhir_server.errors import FhirError, Issue
from fhir_server.settings import Settings

PRINCIPALS_KEPT = 4096

#: A clinic tablet's session token → the caller it stands for (None: unknown or ended).
TabletSessions = Callable[[str], Principal | None]


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        verifier: TokenVerifier,
        replay: ReplayCache,
        tablet_sessions: TabletSessions | None = None,
    ) -> None:
        self.settings = settings
        self.verifier = verifier
        self.replay = replay
        self.tablet_sessions = tablet_sessions
        self.accept_bearer = settings.auth == "dev" or settings.auth_accept_bearer
        self.public_base = settings.base_url.rstrip("/")
        self._principals: dict[str, tuple[dict[str, Any], Principal]] = {}  # token → (its claims, the caller)

    def challenge(self, error: str | None = None, description: str | None = None) -> str:
        """The ``WWW-Authenticate`` value: the schemes accepted, with the error where there is one."""
        detail = ""
        if error:
            detail = f', error="{error}"' + (f', error_description="{description}"' if description else "")
        schemes = [f'DPoP algs="{" ".join(ALGORITHMS)}"{detail}']
        if self.accept_bearer:
            schemes.append(f'Bearer realm="ryggrad"{detail}')
        return ", ".join(schemes)

    def unauthorized(self, description: str, error: str | None = "invalid_token") -> FhirError:
        challenge = self.challenge(error, description.replace('"', "'"))
        return FhirError(
            401, [Issue("login", f"Authentication failed: {description}")], {"WWW-Authenticate": challenge}
        )

    def authenticate(self, method: str, path: str, headers: dict[str, str], url: str | None = None) -> Principal:
        """``path``: relative to the FHIR base (for the DPoP proof's ``htu``), or ``url``: the public URL of an
        endpoint outside it (the DIPS intake); ``headers``: lower-case names."""
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        scheme, token = scheme.lower(), token.strip()
        if not authorization or not token:
            raise self.unauthorized("an access token is required", error=None)
        if scheme not in ("dpop", "bearer"):
            raise self.unauthorized(f"the {scheme!r} authorization scheme is not accepted")
        if token.startswith(SESSION_PREFIX):
            return self._tablet(scheme, token)
        try:
            claims = self.verifier.verify(token)
            bound = (claims.get("cnf") or {}).get("jkt") if isinstance(claims.get("cnf"), dict) else None
            if scheme == "bearer":
                if bound:
                    raise InvalidToken("a DPoP-bound token must be sent with the DPoP scheme and a proof")
                if not self.accept_bearer:
                    raise InvalidToken("only DPoP-bound tokens are accepted")
            else:
                if not bound:
                    raise InvalidToken("the token is not bound to a key (no cnf.jkt)")
                proof = headers.get("dpop")
                if not proof or "," in proof:
                    raise InvalidToken("one DPoP proof header is required")
                verify_proof(
                    proof,
                    method=method,
                    url=url or f"{self.public_base}/{path.lstrip('/')}".rstrip("/"),
                    access_token=token,
                    jkt=str(bound),
                    replay=self.replay,
                    leeway_s=self.settings.auth_leeway_s,
                )
        except InvalidToken as exc:
            raise self.unauthorized(str(exc)) from exc
        return self._principal(token, claims)

    def _principal(self, token: str, claims: dict[str, Any]) -> Principal:
        """The caller the claims describe, worked out once for as long as the verifier keeps those claims."""
        known = self._principals.get(token)
        if known is not None and known[0] is claims:
            return known[1]
        try:
            principal = principal_from_claims(claims, self.settings.auth_role_claim)
        except UnknownRole as exc:
            raise FhirError(403, [Issue("forbidden", f"Access denied: {exc}")]) from exc
        if len(self._principals) >= PRINCIPALS_KEPT:
            self._principals.clear()
        self._principals[token] = (claims, principal)
        return principal

    def _tablet(self, scheme: str, token: str) -> Principal:
        """A session opened with a one-time code on a clinic tablet (a bearer token; it opens one Task)."""
        found = self.tablet_sessions(token) if scheme == "bearer" and self.tablet_sessions else None
        if found is None:
            raise self.unauthorized("the tablet session is unknown or has ended")
        return found
