"""A Measure's facts: the SQL of its Library (``application/sql`` content), one row per episode, over the registry's
materialized views (the Library's ``depends-on`` ViewDefinitions)."""

from __future__ import annotations

import base64
from typing import Any

from fhir_server.errors import FhirError, Issue

SQL = "application/sql"
VIEW_PREFIX = "https://ryggrad.no/fhir/ViewDefinition/"


def _problem(message: str) -> FhirError:
    return FhirError(422, [Issue("not-supported", message)])


def library_of(server: Any, measure: dict[str, Any]) -> dict[str, Any]:
    """The Library a Measure names (the conformance package's)."""
    for canonical in measure.get("library") or []:
        url, _, version = str(canonical).partition("|")
        found = server.definitions.resource("Library", url)
        if found is not None and (not version or found.get("version") == version):
            return found
    raise _problem(f"Measure {measure.get('url')}: its Library is not known to this server")


def sql_of(library: dict[str, Any]) -> str:
    for content in library.get("content") or []:
        if content.get("contentType") == SQL and content.get("data"):
            return base64.b64decode(content["data"]).decode("utf-8")
    raise _problem(f"Library {library.get('url')} has no {SQL} content")


def views_of(library: dict[str, Any]) -> list[str]:
    """The names of the views the Library's SQL reads."""
    return [
        str(artifact["resource"]).removeprefix(VIEW_PREFIX)
        for artifact in library.get("relatedArtifact") or []
        if artifact.get("type") == "depends-on" and str(artifact.get("resource", "")).startswith(VIEW_PREFIX)
    ]


def refresh_views(server: Any, library: dict[str, Any]) -> None:
    """Bring the materialized tables of the Library's views up to date (incrementally after the first time)."""
    from fhir_server.views.errors import ViewDefinitionError
    from fhir_server.views.materialize import refresh_named

    try:
        refresh_named(server, views_of(library))
    except ViewDefinitionError as error:
        raise _problem(f"Library {library.get('url')}: {error}") from error


def criteria(measure: dict[str, Any], code: str) -> str:
    """The SQL condition of the Measure's population ``code`` (denominator, numerator)."""
    for group in measure.get("group") or []:
        for population in group.get("population") or []:
            codes = {c.get("code") for c in (population.get("code") or {}).get("coding") or []}
            expression = population.get("criteria") or {}
            if code in codes:
                if expression.get("language") != SQL:
                    raise _problem(f"Measure {measure.get('url')}: the {code} is not an {SQL} condition")
                return str(expression["expression"])
    raise _problem(f"Measure {measure.get('url')} has no {code}")


def attribution_months(measure: dict[str, Any]) -> int:
    for extension in measure.get("extension") or []:
        if extension.get("url") == "https://ryggrad.no/fhir/StructureDefinition/attribution-offset":
            duration = extension.get("valueDuration") or {}
            if duration.get("code") not in ("mo", None):
                raise _problem(f"Measure {measure.get('url')}: the attribution offset must be in months")
            return int(duration.get("value") or 0)
    return 0
