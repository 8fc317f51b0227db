"""The principal an export runs as: kept with the job (its fields, never the token) and rebuilt in the worker, and
the one test of who may see a job — the caller who started it."""

from __future__ import annotations

from typing import Any

from fhir_server.auth.principal import Principal
from fhir_server.auth.scopes import Permissions

#: What names the caller of a job: another token of the same client, role, unit and study is the same caller.
IDENTITY = ("client_id", "role", "org", "study")


def to_json(principal: Principal | None) -> dict[str, Any] | None:
    """The principal's fields as JSON (its permissions as sorted grants)."""
    if principal is None:
        return None
    return {
        "role": principal.role,
        "client_id": principal.client_id,
        "org": principal.org,
        "pid": principal.pid,
        "hpr": principal.hpr,
        "grants": sorted([list(grant) for grant in principal.permissions.grants]),
        "token_id": principal.token_id,
        "study": principal.study,
    }


def from_json(data: dict[str, Any] | None) -> Principal | None:
    """The principal ``to_json`` stored."""
    if data is None:
        return None
    grants = frozenset((str(c), str(k), str(o)) for c, k, o in data.get("grants") or ())
    return Principal(
        role=data["role"],
        client_id=data.get("client_id"),
        org=data.get("org"),
        pid=data.get("pid"),
        hpr=data.get("hpr"),
        permissions=Permissions(grants),
        token_id=data.get("token_id"),
        study=data.get("study"),
    )


def same_caller(stored: dict[str, Any] | None, principal: Principal | None) -> bool:
    """Whether ``principal`` is the caller who started the job ``stored`` belongs to."""
    if stored is None or principal is None:
        return stored is None and principal is None
    return all(stored.get(name) == getattr(principal, name) for name in IDENTITY)
