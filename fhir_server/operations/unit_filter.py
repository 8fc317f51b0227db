"""Who may see the work lists (the units' staff and the registry administration), and their ``unit`` parameter:
staff get their own unit's (their token names it; naming another is a 403), the registry administration may narrow
to any unit by its organisation number."""

from __future__ import annotations

from fhir_server.auth.ownership import OWNER_SYSTEM
from fhir_server.errors import FhirError, Issue, bad_request
from fhir_server.rest.context import Context

STAFF = frozenset({"clerk", "clinician", "local-lead", "registry-admin"})


def require_staff(ctx: Context) -> None:
    """Work lists are for the units' staff and the registry administration."""
    principal = ctx.principal
    if principal is not None and principal.role not in STAFF:
        raise FhirError(403, [Issue("forbidden", f"Access denied: work lists are for staff, not a {principal.role}")])


def unit_params(ctx: Context, values: dict[str, list[object]]) -> list[tuple[str, str]]:
    """Search parameters that narrow a search to the unit asked for (none: the caller's own restriction does)."""
    unit = str(values["unit"][0]) if values.get("unit") else None
    if unit is None:
        return []
    if not unit.isdigit() or len(unit) != 9:
        raise bad_request("unit is an organisation number (nine digits)", "unit")
    own = ctx.ownership.unit
    if own is not None:
        if unit != own:
            raise FhirError(403, [Issue("forbidden", "Access denied: staff see their own unit's work lists")])
        return []
    return [("_security", f"{OWNER_SYSTEM}|{unit}")]
