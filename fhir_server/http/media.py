"""Media types: JSON in and out; XML refused clearly (415 for bodies, 406 for answers)."""

from __future__ import annotations

from fhir_server.errors import fhir_error

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"
FORM = "application/x-www-form-urlencoded"
_JSON_TYPES = {FHIR_JSON, "application/json", "json", "application/json+fhir", "text/json"}
_XML_TYPES = {"application/fhir+xml", "application/xml", "text/xml", "xml", "application/xml+fhir"}


def media_type(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def request_body_type(content_type: str | None, method: str) -> str:
    """The body's kind: FHIR JSON, JSON Patch, or a search form. 415 for anything else."""
    kind = media_type(content_type)
    if kind in _JSON_TYPES or (kind == "" and method != "PATCH"):
        return FHIR_JSON
    if kind == JSON_PATCH and method == "PATCH":
        return JSON_PATCH
    if kind == FORM:
        return FORM
    if kind in _XML_TYPES:
        raise fhir_error(415, "not-supported", "XML is not supported: send application/fhir+json")
    raise fhir_error(415, "not-supported", f"Unsupported media type; send {FHIR_JSON}")


#: Media types some answers come in besides FHIR JSON: Bulk Data files, ViewDefinition/$run output.
OTHER_TYPES = frozenset(
    {"application/fhir+ndjson", "application/ndjson", "ndjson", "text/csv", "csv", "application/vnd.apache.parquet"}
    | {"parquet", "application/x-ndjson"}
)


def check_acceptable(accept: str | None, format_param: str | None, others: bool = False) -> None:
    """406 when the client will only take XML (or another format we don't produce); ``others``: the endpoint
    may answer in one of ``OTHER_TYPES`` (which it then chooses itself)."""
    if others and format_param is not None and media_type(format_param) in OTHER_TYPES:
        return
    if others and accept and any(media_type(part) in OTHER_TYPES for part in accept.split(",")):
        return
    if format_param is not None:
        kind = media_type(format_param)
        if kind in _JSON_TYPES:
            return
        if kind in _XML_TYPES:
            raise fhir_error(406, "not-supported", "_format=xml is not supported: this server answers JSON only")
        raise fhir_error(406, "not-supported", "_format must be json or application/fhir+json")
    if not accept:
        return
    kinds = [media_type(part) for part in accept.split(",")]
    if any(k in _JSON_TYPES or k in ("*/*", "application/*", "") for k in kinds):
        return
    if any(k in _XML_TYPES for k in kinds):
        raise fhir_error(406, "not-supported", "XML is not supported: accept application/fhir+json")
    raise fhir_error(406, "not-supported", f"This server answers {FHIR_JSON} only")
