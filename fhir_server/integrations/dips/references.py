"""Actors by national identifier: a DIPS reference (``Patient/123`` with an FNR/DNR identifier, a Practitioner with
an HPR number, a Location or Organization with a RESH-id or orgnr) becomes a conditional reference
``<Type>?identifier=<system>|<value>`` the server resolves in a transaction. Identifier systems are normalised to the
``urn:oid:`` form and values checked (check digits for FNR/DNR/orgnr)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server.norway.identifiers import is_valid_dnr, is_valid_fnr, is_valid_hpr, is_valid_orgnr

CHECKS: dict[str, Callable[[str], bool]] = {
    "fnr": is_valid_fnr,
    "dnr": is_valid_dnr,
    "hpr": is_valid_hpr,
    "orgnr": is_valid_orgnr,
    "digits": lambda value: value.isascii() and value.isdigit(),
}


class IdentifierSystems:
    def __init__(self, systems: dict[str, dict[str, Any]], references: dict[str, list[str]]) -> None:
        self.canonical: dict[str, str] = {}
        self.checks: dict[str, Callable[[str], bool]] = {}
        for system, spec in systems.items():
            for alias in [system, *spec.get("aliases", [])]:
                self.canonical[alias] = system
            self.checks[system] = CHECKS[spec.get("check", "digits")]
        self.references = references

    def normalise(self, identifier: dict[str, Any]) -> tuple[str, str] | None:
        """(canonical system, value without blanks), or ``None`` for a system not listed."""
        system = self.canonical.get(str(identifier.get("system") or "").strip())
        if system is None:
            return None
        return system, "".join(str(identifier.get("value") or "").split())

    def conditional(self, actor: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """(the conditional reference, None) or (None, what is wrong)."""
        reference = str(actor.get("reference") or "")
        kind = actor.get("type") or (reference.split("/", 1)[0] if "/" in reference else None)
        wanted = self.references.get(str(kind))
        if wanted is None:
            return None, f"an actor of type {kind!r} ({reference or 'no reference'}) is not mapped"
        identifiers = actor.get("identifier")
        found = self.normalise(identifiers) if isinstance(identifiers, dict) else None
        if found is None or found[0] not in wanted:
            return None, f"the {kind} actor carries none of the identifiers {', '.join(wanted)}"
        system, value = found
        if not self.checks[system](value):
            return None, f"the {kind} actor's identifier {system}|{value} is not valid"
        return {"reference": f"{kind}?identifier={system}|{value}", "type": kind}, None
