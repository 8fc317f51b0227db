"""A provisional indexer: ``identifier`` tokens only, until the full SearchParameter extraction is wired in."""

from __future__ import annotations

from typing import Any

from fhir_server.search.index.rows import IndexRows, TokenRow

MAX_TOKEN = 255


class IdentifierIndexer:
    def rows(self, resource: dict[str, Any]) -> IndexRows:
        identifiers = resource.get("identifier")
        if isinstance(identifiers, dict):
            identifiers = [identifiers]
        tokens = [
            TokenRow(
                "identifier", ident["system"][:MAX_TOKEN] if ident.get("system") else None, ident["value"][:MAX_TOKEN]
            )
            for ident in identifiers or []
            if isinstance(ident, dict) and isinstance(ident.get("value"), str)
        ]
        return IndexRows(tokens=tokens)
