"""Token index rows extracted from a resource at write time (``identifier`` until full search indexing)."""

from __future__ import annotations

from typing import Any

from fhir_server.storage.store import TokenRow

MAX_TOKEN = 255


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def identifier_tokens(resource: dict[str, Any]) -> list[TokenRow]:
    rows: list[TokenRow] = []
    for ident in _as_list(resource.get("identifier")):
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            system = ident.get("system")
            rows.append(("identifier", system[:MAX_TOKEN] if system else None, ident["value"][:MAX_TOKEN]))
    return rows
