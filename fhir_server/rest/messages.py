"""The request and response of one FHIR interaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fhir_server.auth.principal import Principal


@dataclass
class FhirRequest:
    method: str  # GET, POST, PUT, PATCH, DELETE, HEAD
    path: str  # relative to the base, e.g. "Patient/123/_history/2"
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: Any = None  # parsed JSON (a resource, Parameters, or a JSON Patch list)
    content_type: str = "application/fhir+json"
    principal: Principal | None = None  # set by the HTTP layer; None: the server itself, in-process

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def params(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]

    def param(self, name: str) -> str | None:
        values = self.params(name)
        return values[-1] if values else None


@dataclass
class FhirResponse:
    status: int
    resource: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: a body that is not a FHIR resource (a Bulk Data manifest, NDJSON, CSV …), sent as is with ``media_type``
    content: bytes | None = None
    media_type: str | None = None
