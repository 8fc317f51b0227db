"""Scopes → permissions: SMART App Launch v2 (``system/Appointment.cu``, ``user/*.rs``,
``patient/QuestionnaireResponse.cru``), the v1 forms (``.read`` = rs, ``.write`` = cud, ``.*`` = all), and
HelseID-style ``nhn:ryggrad/<SMART scope>`` (``nhn:ryggrad/system/Appointment.cu``), which mean the same.

A permission is (context, resource type or ``*``, operation): ``c`` create, ``r`` read (read, vread, history of one
resource), ``u`` update (and patch), ``d`` delete, ``s`` search (and history of a type). A SMART v2 scope restricted
by a query (``patient/Observation.rs?category=…``) grants nothing here: it cannot be honoured exactly, and a scope
is never widened. Other scopes (``openid``, ``fhirUser``, ``offline_access`` …) carry no data permission.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPERATIONS = "cruds"
CONTEXTS = ("patient", "user", "system")
NHN_PREFIX = "nhn:ryggrad/"

_SCOPE = re.compile(r"(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(\*|read|write|c?r?u?d?s?)(\?.*)?")
_V1 = {"*": "cruds", "read": "rs", "write": "cud"}


@dataclass(frozen=True)
class Permissions:
    grants: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)  # (context, type or *, operation)

    @property
    def contexts(self) -> set[str]:
        return {context for context, _, _ in self.grants}

    def allows(self, resource_type: str, operation: str) -> bool:
        """Whether some context grants ``operation`` on ``resource_type``."""
        return any(op == operation and kind in ("*", resource_type) for _, kind, op in self.grants)

    def context_for(self, resource_type: str, operation: str) -> set[str]:
        """The contexts (patient / user / system) granting it."""
        return {c for c, kind, op in self.grants if op == operation and kind in ("*", resource_type)}


def _grants(scope: str) -> set[tuple[str, str, str]]:
    if scope.startswith(NHN_PREFIX):
        scope = scope[len(NHN_PREFIX) :]
    found = _SCOPE.fullmatch(scope)
    if found is None or found.group(4):  # not a data scope, or restricted by a query
        return set()
    context, kind, ops = found.group(1), found.group(2), found.group(3)
    ops = _V1.get(ops, ops)
    return {(context, kind, op) for op in ops}


def parse_scopes(value: str | list[str]) -> Permissions:
    """The permissions of a ``scope`` claim (space-separated, or a list)."""
    scopes = value.split() if isinstance(value, str) else [str(v) for v in value]
    grants: set[tuple[str, str, str]] = set()
    for scope in scopes:
        grants |= _grants(scope)
    return Permissions(frozenset(grants))
