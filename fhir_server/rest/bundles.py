"""Building response Bundles: searchset and history pages with their links."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fhir_server.rest.versioning import instant


def bundle(kind: str, entries: list[dict[str, Any]], links: list[tuple[str, str]], now: Any, total: int | None = None):
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(now)},
        "type": kind,
    }
    if total is not None:
        result["total"] = total
    result["link"] = [{"relation": rel, "url": url} for rel, url in links]
    result["entry"] = entries
    return result


def page_url(base: str, path: str, params: list[tuple[str, str]]) -> str:
    query = urlencode(params)
    url = f"{base}/{path}" if path else base
    return url + (f"?{query}" if query else "")


def matches(found: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The resources a searchset found (its ``match`` entries, not the included ones)."""
    entries = (found or {}).get("entry") or []
    return [e["resource"] for e in entries if (e.get("search") or {}).get("mode", "match") == "match"]
