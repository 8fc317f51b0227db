"""The keys `getResourceKey()` and `getReferenceKey()` give: `Type/id`, so that they join directly.

A resource's key is `Patient/p1`; a reference's key is the `Type/id` it names, whether written
relative (`Patient/p1`), absolute (`https://host/fhir/Patient/p1`) or versioned
(`Patient/p1/_history/2`). Contained (`#c1`) and `urn:` references have no key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def resource_key(resource: Any) -> str | None:
    if isinstance(resource, Mapping) and resource.get("resourceType") and resource.get("id"):
        return f"{resource['resourceType']}/{resource['id']}"
    return None


def reference_key(reference: str, wanted_type: str | None = None) -> str | None:
    """The key a reference names, or None (also when it names another type than `wanted_type`)."""
    if not reference or reference.startswith("#") or reference.startswith("urn:"):
        return None
    parts = reference.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-1] or not parts[-2]:
        return None
    resource_type, resource_id = parts[-2], parts[-1]
    if wanted_type is not None and resource_type != wanted_type:
        return None
    return f"{resource_type}/{resource_id}"
