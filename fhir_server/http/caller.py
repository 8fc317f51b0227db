"""Who is calling: the access token checked (``Authenticator``), the sign-in failures audited, and the rates
by address and by client enforced."""

from __future__ import annotations

from fhir_server.audit.events import login_failure
from fhir_server.auth.principal import Principal
from fhir_server.errors import FhirError, Issue
from fhir_server.operations import registry as operations
from fhir_server.server import FhirServer

CREDENTIALS = ("authorization", "dpop")  # the request headers that say who is calling


def _throttle(server: FhirServer, key: str) -> None:
    _refuse_beyond(server.rate_limiter.allow(key))


def _throttle_code_attempts(server: FhirServer, address: str) -> None:
    """One-time codes are guessed at no faster than this, from one address or from all of them."""
    per_address, overall = server.code_attempts
    _refuse_beyond(per_address.allow(address) or overall.allow("*"))


def _refuse_beyond(wait: int) -> None:
    if wait:
        issue = Issue("throttled", f"Too many requests: try again in {wait} s")
        raise FhirError(429, [issue], {"Retry-After": str(wait)})


def _is_public(method: str, path: str) -> bool:
    """Served without a token: the CapabilityStatement, and the operations for callers who have none yet."""
    return (method in ("GET", "HEAD") and path.strip("/") == "metadata") or _public_operation(method, path)


def _public_operation(method: str, path: str) -> bool:
    name = path.strip("/")
    return method == "POST" and name.startswith("$") and name[1:] in operations.PUBLIC


def authenticate_caller(
    server: FhirServer, method: str, path: str, headers: dict[str, str], address: str, url: str | None = None
) -> Principal | None:
    """The caller (None for the public CapabilityStatement); a failed sign-in is audited (nothing of the token
    is kept) and counts against the address's rate. ``url``: the public URL of an endpoint outside the FHIR
    base (``Authenticator.authenticate``)."""
    if url is None and _is_public(method, path):
        if _public_operation(method, path):
            _throttle_code_attempts(server, address)
        return None
    try:
        principal = server.authenticator.authenticate(method, path, headers, url)
    except FhirError as refused:
        _throttle(server, f"address:{address}")
        reason = refused.issues[0].diagnostics if refused.issues else "refused"
        server.audit.record(login_failure(server.clock(), reason, refused.status))
        raise
    _throttle(server, f"client:{principal.client_id}")
    return principal
