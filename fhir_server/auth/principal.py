"""The caller of a request, from the claims of its access token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhir_server.auth.scopes import Permissions, parse_scopes

ROLES = ("ehr", "clerk", "clinician", "local-lead", "registry-admin", "researcher", "patient")
#: The roles that act for one unit (their token names its organisation).
UNIT_ROLES = frozenset({"ehr", "clerk", "clinician", "local-lead"})

# HelseID claim names (norway.md)
ORGNR_PARENT = "helseid://claims/client/claims/orgnr_parent"
ORGNR_CHILD = "helseid://claims/client/claims/orgnr_child"
PID = "helseid://claims/identity/pid"
HPR_NUMBER = "helseid://claims/hpr/hpr_number"
#: The data release (ResearchStudy id) a researcher's token is issued for (issue 11: research access).
STUDY = "https://ryggrad.no/claims/study"


class UnknownRole(Exception):
    """The token names no role this server knows, and none can be inferred."""


@dataclass(frozen=True)
class Principal:
    role: str
    client_id: str | None = None
    org: str | None = None  # organisasjonsnummer: the unit the caller acts for (orgnr_child, else orgnr_parent)
    pid: str | None = None  # the person (FNR/DNR) — patients, and users signed in with ID-porten/HelseID
    hpr: str | None = None  # the practitioner's HPR number
    permissions: Permissions = field(default_factory=Permissions)
    token_id: str | None = None  # the token's jti, for the audit trail
    #: a clinic tablet's session from a one-time code (N8): the one Task it opens, and that Task's patient
    task: str | None = None
    patient: str | None = None
    study: str | None = None  # a researcher's data release: the ResearchStudy the token names

    def describe(self) -> dict[str, Any]:
        """Who, without personal identifiers (for logs): role, client, organisation, HPR."""
        return {"role": self.role, "client": self.client_id, "org": self.org, "hpr": self.hpr}


def _text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if isinstance(value, list) and value:
        value = value[0]
    return str(value) if isinstance(value, str | int) and str(value) else None


def principal_from_claims(claims: dict[str, Any], role_claim: str) -> Principal:
    """A verified token's claims as a ``Principal``. The role is the project's role claim; without one, a token
    with only system scopes is an EHR system and one with a person number but no organisation a patient."""
    permissions = parse_scopes(claims.get("scope") or claims.get("scp") or "")
    org = _text(claims, ORGNR_CHILD) or _text(claims, ORGNR_PARENT)
    pid = _text(claims, PID)
    role = _text(claims, role_claim)
    if role is None:
        if permissions.contexts == {"system"}:
            role = "ehr"
        elif pid is not None and org is None:
            role = "patient"
    if role not in ROLES:
        raise UnknownRole(f"the token's role {role!r} is none of {', '.join(ROLES)}" if role else "no role")
    return Principal(
        role=role,
        client_id=_text(claims, "client_id") or _text(claims, "azp") or _text(claims, "sub"),
        org=org,
        pid=pid,
        hpr=_text(claims, HPR_NUMBER),
        permissions=permissions,
        token_id=_text(claims, "jti"),
        study=_text(claims, STUDY),
    )
