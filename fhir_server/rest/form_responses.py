"""Responses to registry forms, as the portal (Helsenorge's renderer) sends them: prepared by the server before they
are validated and stored.

- refero 22.2.1 leaks an ``initialSelected`` field into answers, which R4 does not have: dropped.
- A response ``basedOn`` a registry Task (a form sent to a patient) gets what the renderer leaves out from the Task:
  its subject (the Task's patient; another is a 422), the episode, the Questionnaire; a patient's own response also
  its author (the patient) and ``authored`` (now, by the server's clock). A patient answers only an open form (409).
- A response answers the Task's own Questionnaire, or an alternative its registry's PlanDefinition declares for it
  (a nested action of the form's action): OPR's short baseline (P6), given on site by the office — staff or a clinic
  tablet, for a form still open — for a patient who did not answer the full form before arriving. Another form is a
  422.
- A patient's own response belongs to the units that own the form's Task (N20: the unit of the episode sees the
  answers; the patient writes without a unit of their own).
- How it was given is marked (``response-channel``): in the portal, on a clinic tablet (N8), or on paper keyed in by
  staff on the patient's behalf (N4: the patient its source, the staff member its author).
- N2: a completed response to a registry that requires consent (the PlanDefinition's ``registry-consent-rule``)
  needs the patient's active consent to that registry — given digitally in the portal, or on paper and recorded
  by staff (N3). Without it, a 422 that says so; the response can still be saved as a draft.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from fhir_server.auth.ownership import owners, with_owners
from fhir_server.errors import FhirError, Issue
from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.storage.schema import resource

SD = "https://ryggrad.no/fhir/StructureDefinition/"
EPISODE = SD + "episode"
REGISTRY = SD + "registry"
CONSENT_RULE = SD + "registry-consent-rule"
CHANNEL = SD + "response-channel"
CHANNEL_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/response-channel"
HPR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.4"
STAFF = frozenset({"clerk", "clinician", "local-lead"})
REGISTRY_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry"
TIMEPOINT_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry-timepoint"
OPEN = frozenset({"requested", "received", "accepted", "ready", "in-progress"})
FINAL = frozenset({"completed", "amended"})
LEAKED = "initialSelected"


def _without_leaks(items: Any) -> Any:
    """``item`` lists with refero's leaked answer field removed, at every depth."""
    if not isinstance(items, list):
        return items
    cleaned = []
    for item in items:
        if not isinstance(item, dict):
            cleaned.append(item)
            continue
        item = dict(item)
        if isinstance(item.get("answer"), list):
            answers = []
            for answer in item["answer"]:
                if isinstance(answer, dict):
                    answer = {k: v for k, v in answer.items() if k != LEAKED}
                    if "item" in answer:
                        answer["item"] = _without_leaks(answer["item"])
                answers.append(answer)
            item["answer"] = answers
        if "item" in item:
            item["item"] = _without_leaks(item["item"])
        cleaned.append(item)
    return cleaned


def _visible(ctx: Context, task_id: str, task: dict[str, Any]) -> bool:
    """Whether the caller may see the Task (nothing is learnt of one they may not: it is as if not named)."""
    principal = ctx.principal
    if ctx.is_patient and principal is not None:
        patient = str((task.get("for") or {}).get("reference") or "")
        mine = patient.startswith("Patient/") and patient.split("/", 1)[1] in ctx.patient_ids()
        return mine and principal.task in (None, task_id)
    return ctx.ownership.sees("Task", task)


def _registry_task(ctx: Context, response: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(id, content) of the registry form Task the response answers, if it names one the caller may see."""
    for based_on in response.get("basedOn") or []:
        reference = str((based_on or {}).get("reference") or "") if isinstance(based_on, dict) else ""
        parts = reference.split("/")
        if len(parts) != 2 or parts[0] != "Task":
            continue
        current = ctx.store.current("Task", parts[1])
        task = current.content if current is not None and not current.deleted else None
        codings = ((task or {}).get("code") or {}).get("coding") or []
        if (
            task is not None
            and any(c.get("system") == TIMEPOINT_SYSTEM for c in codings)
            and _visible(ctx, parts[1], task)
        ):
            return parts[1], task
    return None


def _extension(content: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in content.get("extension") or [] if isinstance(e, dict) and e.get("url") == url), None)


def _registry_code(task: dict[str, Any]) -> str | None:
    found = _extension(task, REGISTRY)
    coding = (found or {}).get("valueCoding") or {}
    return str(coding["code"]) if coding.get("system") == REGISTRY_SYSTEM and coding.get("code") else None


def consent_required(ctx: Context, registry: str) -> bool:
    """Whether the registry's PlanDefinition says its patients must consent (the default) or it is exempt."""
    for plan in ctx.server.definitions.resources_of_type("PlanDefinition"):
        coding = ((_extension(plan, REGISTRY) or {}).get("valueCoding")) or {}
        if coding.get("system") == REGISTRY_SYSTEM and coding.get("code") == registry:
            return (_extension(plan, CONSENT_RULE) or {}).get("valueCode", "required") != "exempt"
    return True


def has_consented(ctx: Context, patient: str, registry: str) -> bool:
    """An active, permitting consent of ``patient`` (``Patient/123``) to ``registry``."""
    ctx.store.flush()  # a consent created earlier in the same transaction counts
    plan = ctx.server.search_plan("Consent", [("patient", patient), ("status", "active")], strict=True)
    rows = ctx.conn.execute(select(resource.c.content).where(*plan.conditions).limit(1000))
    for row in rows:
        consent = row.content if isinstance(row.content, dict) else {}
        coding = ((_extension(consent, REGISTRY) or {}).get("valueCoding")) or {}
        permits = (consent.get("provision") or {}).get("type", "permit") == "permit"
        if coding.get("code") == registry and permits:
            return True
    return False


def _canonical(reference: Any) -> tuple[str, str | None]:
    url, _, version = str(reference or "").partition("|")
    return url, version or None


def _same_form(one: Any, other: Any) -> bool:
    """Whether two canonical references name the same Questionnaire (a version on one side only matches any)."""
    (url, version), (other_url, other_version) = _canonical(one), _canonical(other)
    return url == other_url and (version is None or other_version is None or version == other_version)


def _alternatives(ctx: Context, form: str) -> list[str]:
    """The forms a registry's PlanDefinition declares as alternatives to ``form`` (its action's nested actions)."""
    found = []
    for plan in ctx.server.definitions.resources_of_type("PlanDefinition"):
        for action in plan.get("action") or []:
            if isinstance(action, dict) and _same_form(action.get("definitionCanonical"), form):
                found += [a["definitionCanonical"] for a in action.get("action") or [] if a.get("definitionCanonical")]
    return found


def _check_form(ctx: Context, response: dict[str, Any], task_id: str, task: dict[str, Any]) -> None:
    """The response answers the Task's form, or an alternative given on site while the form is open (P6)."""
    asked = (task.get("focus") or {}).get("reference")
    answered = response.get("questionnaire")
    if not asked or not answered or _same_form(answered, asked):
        return
    if not any(_same_form(answered, alternative) for alternative in _alternatives(ctx, asked)):
        message = f"Task/{task_id} asks for the form {asked}; the response answers {answered}"
        raise FhirError(422, [Issue("business-rule", message, expression=("QuestionnaireResponse.questionnaire",))])
    principal = ctx.principal
    on_site = principal is not None and (principal.role in STAFF or principal.task is not None)
    if not on_site:
        message = f"{answered} is given on site by the clinic, in place of {asked} (P6)"
        raise FhirError(422, [Issue("business-rule", message, expression=("QuestionnaireResponse.questionnaire",))])
    if task.get("status") not in OPEN:
        message = f"The form is {task.get('status')}: a short form can no longer take its place"
        raise FhirError(409, [Issue("business-rule", message)])


def _channel(ctx: Context) -> str | None:
    """How the answers were given: by the patient in the portal, on a clinic tablet, or keyed in by staff (N4)."""
    principal = ctx.principal
    if principal is None:
        return None
    if principal.role == "patient":
        return "on-site" if principal.task is not None else "digital"
    return "paper" if principal.role in STAFF else None


def _staff_member(ctx: Context) -> dict[str, str] | None:
    """The Practitioner keying a paper form in, found by the HPR number of their token."""
    hpr = ctx.principal.hpr if ctx.principal is not None else None
    if not hpr:
        return None
    plan = ctx.server.search_plan("Practitioner", [("identifier", f"{HPR_SYSTEM}|{hpr}")], strict=True)
    row = ctx.conn.execute(select(resource.c.id).where(*plan.conditions).limit(1)).first()
    return {"reference": f"Practitioner/{row.id}"} if row is not None else None


def _with_channel(ctx: Context, response: dict[str, Any], patient: Any) -> dict[str, Any]:
    """The response marked with how it was given; one keyed in from paper names the patient as its source and the
    staff member as its author (N4)."""
    channel = _channel(ctx)
    if channel is None:
        return response
    coding = {"system": CHANNEL_SYSTEM, "code": channel}
    others = [e for e in response.get("extension") or [] if not (isinstance(e, dict) and e.get("url") == CHANNEL)]
    response = {**response, "extension": [*others, {"url": CHANNEL, "valueCoding": coding}]}
    if channel == "paper":
        response.setdefault("source", {"reference": patient})
        member = _staff_member(ctx) if "author" not in response else None
        if member is not None:
            response["author"] = member
    return response


def prepared_response(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The response as it is to be validated and stored (see the module's description)."""
    response = copy.copy(body)
    if "item" in response:
        response["item"] = _without_leaks(response["item"])
    found = _registry_task(ctx, response)
    if found is None:
        return response
    task_id, task = found
    patient = (task.get("for") or {}).get("reference")
    subject = (response.get("subject") or {}).get("reference")
    if subject is not None and subject != patient:
        raise FhirError(
            422, [Issue("business-rule", f"The response is about {subject}, but Task/{task_id} is for another patient")]
        )
    response["subject"] = {"reference": patient}
    episode = _extension(task, EPISODE)
    if episode is not None and _extension(response, EPISODE) is None:
        response["extension"] = [*(response.get("extension") or []), episode]
    if not response.get("questionnaire") and (task.get("focus") or {}).get("reference"):
        response["questionnaire"] = task["focus"]["reference"]
    _check_form(ctx, response, task_id, task)
    response = _with_channel(ctx, response, patient)
    if ctx.is_patient:
        if task.get("status") not in OPEN:
            raise FhirError(
                409, [Issue("business-rule", f"The form is {task.get('status')}: it can no longer be answered")]
            )
        response["author"] = {"reference": patient}
        response["authored"] = instant(ctx.now)
        response = with_owners(response, owners(task))  # N20: the Task's units see the answers
    registry = _registry_code(task)
    if (
        response.get("status") in FINAL
        and registry is not None
        and consent_required(ctx, registry)
        and not has_consented(ctx, str(patient), registry)
    ):
        message = (
            f"The patient has not consented to the registry ({registry}): consent is given before the form is sent "
            "(N2). The response can be saved as a draft."
        )
        raise FhirError(422, [Issue("business-rule", message, expression=("QuestionnaireResponse.status",))])
    return response
