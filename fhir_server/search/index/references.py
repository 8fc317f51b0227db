"""Reference strings → (target type, target id, url, version), as the reference index stores them.

- ``Patient/123`` → (Patient, 123, None, None); ``Patient/123/_history/2`` → version 2.
- this server's own absolute URLs (``<base>/Patient/123``) → as if relative: (Patient, 123, None, None), so a
  search for ``Patient/123`` is one index lookup, whichever form the resource used.
- another server's ``https://host/fhir/Patient/123`` → (Patient, None, the URL, None): never the local Patient/123.
- ``urn:uuid:…``, ``#contained``, ``Patient?identifier=…`` and other URLs → (None, None, the string, None).
- canonical ``url|version`` → url and version (never split into type/id: canonicals match by URL).
"""

from __future__ import annotations

import re
from typing import Any

from fhir_server.search.index.normalize import MAX_STRING

MAX_ID = 64
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_CACHE_LIMIT = 16384

ReferenceParts = tuple[str | None, str | None, str | None, str | None]
RowParts = tuple[str | None, str | None, str | None, str | None, str | None, str | None]


def parse_canonical(value: str) -> tuple[str, str | None]:
    url, bar, version = value.rpartition("|")
    if not bar:
        return value, None
    return url, (version[:MAX_ID] or None)


class ReferenceParser:
    """Parses literal references against the known resource types (results cached)."""

    def __init__(self, resource_types: frozenset[str], base_url: str | None = None) -> None:
        """``base_url``: this server's base; references under it are local (None: every absolute URL is foreign)."""
        self.resource_types = resource_types
        self.own_prefix = base_url.rstrip("/") + "/" if base_url else None
        self._cache: dict[str, ReferenceParts] = {}

    def parse(self, reference: str) -> ReferenceParts:
        found = self._cache.get(reference)
        if found is None:
            found = self._parse(reference)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[reference] = found
        return found

    def _parse(self, reference: str) -> ReferenceParts:
        if reference.startswith("#") or "/" not in reference or "?" in reference:
            return None, None, reference, None
        if self.own_prefix is not None and reference.startswith(self.own_prefix):
            relative = reference[len(self.own_prefix) :]
            if "://" not in relative:
                return self._parse(relative)
        segments = reference.split("/")
        version = None
        if len(segments) >= 4 and segments[-2] == "_history":
            version = segments[-1][:MAX_ID] or None
            segments = segments[:-2]
        if len(segments) >= 2 and segments[-2] in self.resource_types and _ID.fullmatch(segments[-1]):
            if len(segments) == 2:
                return segments[-2], segments[-1], None, version
            return segments[-2], None, "/".join(segments), version  # another server's resource
        return None, None, reference, None

    def row_parts(self, value: Any) -> RowParts | None:
        """A Reference element → (type, id, url, version, identifier system, identifier value), or None if empty."""
        if type(value) is not dict:
            return None
        target_type = target_id = url = version = id_system = id_value = None
        reference = value.get("reference")
        if type(reference) is str and reference:
            target_type, target_id, url, version = self.parse(reference)
        identifier = value.get("identifier")
        if type(identifier) is dict:
            system, id_val = identifier.get("system"), identifier.get("value")
            id_system = system[:MAX_STRING] if type(system) is str and system else None
            id_value = id_val[:MAX_STRING] if type(id_val) is str and id_val else None
        if target_type is None:
            declared = value.get("type")
            if type(declared) is str and declared in self.resource_types:
                target_type = declared
        if target_type is None and url is None and id_system is None and id_value is None:
            return None
        return target_type, target_id, url, version, id_system, id_value

    def target_type(self, value: Any) -> str | None:
        """The type a Reference points at (``resolve() is Patient``): from the literal, else ``Reference.type``."""
        if type(value) is not dict:
            return None
        reference = value.get("reference")
        if type(reference) is str and reference:
            found = self.parse(reference)[0]
            if found is not None:
                return found
        declared = value.get("type")
        return declared if type(declared) is str else None
