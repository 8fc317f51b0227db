"""``GET QuestionnaireResponse/$unfinished-forms``: the clinician forms still in draft (registry rule N13), oldest
first, with their age — each clinician's own (``author``, or ``mine=true``) and the unit's, so a local lead can
chase or delete them. The draft an episode opens with (N5) counts once its consultation has passed. A clinician
form is one whose Questionnaire is filled in by health professionals
(``useContext`` user = healthcare professional). Found through the search engine with the caller's restrictions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from fhir_server.errors import FhirError, Issue, bad_request
from fhir_server.norway.identifiers import HPR_SYSTEM
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.operations.unit_filter import require_staff, unit_params
from fhir_server.rest.bundles import matches
from fhir_server.rest.context import Context
from fhir_server.rest.interactions.search import search_type
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.versioning import instant
from fhir_server.storage.schema import resource_history

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/questionnaireresponse-unfinished-forms"
HEALTH_PROFESSIONAL = "http://snomed.info/sct|223366009"
EPISODE = "https://ryggrad.no/fhir/StructureDefinition/episode"
PLANNED = "https://ryggrad.no/fhir/StructureDefinition/planned-consultation"
USER_CONTEXT = "user"


def _for_professionals(questionnaire: dict[str, Any]) -> bool:
    system, code = HEALTH_PROFESSIONAL.split("|")
    return any(
        (context.get("code") or {}).get("code") == USER_CONTEXT
        and any(
            c.get("system") == system and c.get("code") == code
            for c in (context.get("valueCodeableConcept") or {}).get("coding") or []
        )
        for context in questionnaire.get("useContext") or []
    )


def clinician_forms(ctx: Context) -> list[str]:
    """The canonical URLs of the forms health professionals fill in: the conformance package's and stored ones."""
    urls = {q["url"] for q in ctx.server.definitions.resources_of_type("Questionnaire") if _for_professionals(q)}
    request = FhirRequest("GET", "Questionnaire", [("context", HEALTH_PROFESSIONAL)])
    stored = matches(search_type(ctx, request, "Questionnaire").resource)
    urls |= {q.get("url") for q in stored if _for_professionals(q)}
    return sorted(u for u in urls if isinstance(u, str))


def _author(ctx: Context, values: dict[str, list[Any]]) -> str | None:
    if values.get("author") and values.get("mine"):
        raise bad_request("Give author or mine, not both", "mine")
    if values.get("author"):
        author = str(values["author"][0])
        if not author.startswith(("Practitioner/", "PractitionerRole/")):
            raise bad_request("author is a Practitioner or PractitionerRole reference", "author")
        return author
    if not values.get("mine") or str(values["mine"][0]).lower() != "true":
        return None
    hpr = ctx.principal.hpr if ctx.principal is not None else None
    if not hpr:
        raise FhirError(400, [Issue("invalid", "mine=true needs a token that names the caller's HPR number")])
    found = search_type(
        ctx, FhirRequest("GET", "Practitioner", [("identifier", f"{HPR_SYSTEM}|{hpr}")]), "Practitioner"
    )
    ids = [
        e["resource"]["id"]
        for e in (found.resource or {}).get("entry") or []
        if e.get("search", {}).get("mode") == "match"
    ]
    return ",".join(f"Practitioner/{i}" for i in ids) or "Practitioner/-"


def _started(ctx: Context, ids: list[str]) -> dict[str, Any]:
    """When each response was first saved."""
    h = resource_history.c
    query = select(h.id, h.last_updated).where(
        h.resource_type == "QuestionnaireResponse", h.version_id == 1, h.id.in_(ids)
    )
    return {row.id: row.last_updated for row in ctx.conn.execute(query)}


def _episode(draft: dict[str, Any]) -> dict[str, Any] | None:
    for extension in draft.get("extension") or []:
        if extension.get("url") == EPISODE and isinstance(extension.get("valueReference"), dict):
            return extension["valueReference"]
    return None


def _consultation(ctx: Context, episode: dict[str, Any] | None) -> str | None:
    """The episode's planned consultation (a FHIR dateTime), if it has one."""
    reference = str((episode or {}).get("reference") or "")
    if not reference.startswith("EpisodeOfCare/"):
        return None
    current = ctx.store.current("EpisodeOfCare", reference.split("/", 1)[1])
    for extension in (current.content or {}).get("extension") or [] if current is not None else []:
        if extension.get("url") == PLANNED and isinstance(extension.get("valueDateTime"), str):
            return extension["valueDateTime"]
    return None


def _ahead(ctx: Context, consultation: str | None) -> bool:
    if consultation is None:
        return False
    moment = datetime.fromisoformat(consultation.replace("Z", "+00:00"))
    return (moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment) > ctx.now


def _part(name: str, key: str, value: Any) -> dict[str, Any]:
    return {"name": name, key: value}


def unfinished_forms(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    require_staff(ctx)
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    author = _author(ctx, values)
    forms = clinician_forms(ctx)
    if not forms:
        return FhirResponse(200, {"resourceType": "Parameters", "parameter": [_part("total", "valueInteger", 0)]})
    query = [
        ("status", "in-progress"),
        ("questionnaire", ",".join(forms)),
        ("_count", str(ctx.server.settings.max_page_size)),
        *([("author", author)] if author else []),
        *unit_params(ctx, values),
    ]
    found = search_type(ctx, FhirRequest("GET", "QuestionnaireResponse", query), "QuestionnaireResponse")
    drafts = matches(found.resource)
    started = _started(ctx, [d["id"] for d in drafts])
    rows = []
    for draft in drafts:
        first = started.get(draft["id"])
        updated = draft.get("meta", {}).get("lastUpdated")
        episode = _episode(draft)
        consultation = _consultation(ctx, episode)
        if first is None or not updated or _ahead(ctx, consultation):
            continue  # a draft opened at booking (N5) is unfinished once its consultation has passed
        parts = [
            _part("response", "valueReference", {"reference": f"QuestionnaireResponse/{draft['id']}"}),
            _part("questionnaire", "valueCanonical", draft.get("questionnaire")),
            *([_part("author", "valueReference", draft["author"])] if draft.get("author") else []),
            *([_part("subject", "valueReference", draft["subject"])] if draft.get("subject") else []),
            *([_part("episode", "valueReference", episode)] if episode else []),
            *([_part("consultation", "valueDateTime", consultation)] if consultation else []),
            _part("started", "valueInstant", instant(first)),
            _part("updated", "valueInstant", updated),
            _part("ageDays", "valueInteger", (ctx.now - first).days),
        ]
        rows.append((first, draft["id"], {"name": "form", "part": parts}))
    rows.sort(key=lambda row: (row[0], row[1]))
    parameters = [row[2] for row in rows] + [_part("total", "valueInteger", len(rows))]
    return FhirResponse(200, {"resourceType": "Parameters", "parameter": parameters})
