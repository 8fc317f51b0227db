"""What a patient (role ``patient``, identified by FNR/DNR in the token's ``pid``) may see and write: their own
Patient resource, their Tasks, QuestionnaireResponses and Consents — found through the references that make them
theirs — and the Questionnaires everybody may read. Nothing else, through any interaction.

Searches get the restriction as one more condition in the database query (so totals and paging never count
anyone else's data); reads answer 404 for what is not the patient's; a write must be about the patient (the
references of the new content, as the search index extracts them, point at their own Patient).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select

from fhir_server.errors import FhirError, Issue, not_found
from fhir_server.norway.identifiers import DNR_SYSTEM, FNR_SYSTEM
from fhir_server.rest.messages import FhirRequest
from fhir_server.storage.schema import resource, search_reference, search_token

#: Resource type → the reference parameters that make a resource the patient's ("" = the Patient itself).
OWN: dict[str, tuple[str, ...]] = {
    "Patient": ("",),
    "Task": ("owner", "patient", "subject"),
    "QuestionnaireResponse": ("subject", "patient", "author", "source"),
    "Consent": ("patient",),
}
#: Readable by every patient.
SHARED = frozenset({"Questionnaire"})
#: What a clinic tablet's session (a one-time code, N8) opens besides its one Task: the responses to that Task
#: (found by ``based-on``) and the patient's consent.
TABLET = {"QuestionnaireResponse": "based-on", "Consent": None}


def _denied(what: str) -> FhirError:
    return FhirError(403, [Issue("forbidden", f"Access denied: patients {what}")])


def own_patient_ids(conn: Any, pid: str | None) -> list[str]:
    """The ids of the Patient resources identified by the person number ``pid`` (FNR or DNR)."""
    if not pid:
        return []
    t = search_token.c
    rids = select(t.rid).where(
        t.resource_type == "Patient", t.param == "identifier", t.code == pid, t.system.in_([FNR_SYSTEM, DNR_SYSTEM])
    )
    query = select(resource.c.id).where(resource.c.rid.in_(rids), resource.c.resource_type == "Patient")
    return [row.id for row in conn.execute(query.where(~resource.c.deleted))]


def condition(resource_type: str, patient_ids: list[str], task: str | None = None) -> ColumnElement[bool] | None:
    """The rows of ``resource_type`` that are the patient's (None: all, for shared types); ``task``: a tablet
    session's one Task, to which its rows are narrowed further."""
    if resource_type in SHARED:
        return None
    if task is not None:
        return _tablet_condition(resource_type, patient_ids, task)
    params = OWN.get(resource_type)
    if params is None:
        raise _denied(f"cannot see {resource_type} resources")
    if not patient_ids:
        return false()
    return rows_of_patients(resource_type, params, patient_ids)


def rows_of_patients(resource_type: str, params: Sequence[str], patients: Any) -> ColumnElement[bool]:
    """Rows of ``resource_type`` that are the Patients ``patients`` (ids, or a query of ids) themselves (param
    "") or refer to one of them through the reference parameters ``params``, as a condition on ``resource``."""
    ref = search_reference.c
    clauses: list[ColumnElement[bool]] = []
    if "" in params:
        clauses.append(resource.c.id.in_(patients))
    index_params = [p for p in params if p]
    if index_params:
        theirs = select(ref.rid).where(
            ref.resource_type == resource_type,
            ref.param.in_(index_params),
            ref.target_type == "Patient",
            ref.target_id.in_(patients),
        )
        clauses.append(resource.c.rid.in_(theirs))
    return or_(*clauses) if len(clauses) > 1 else clauses[0]


def _tablet_condition(resource_type: str, patient_ids: list[str], task: str) -> ColumnElement[bool]:
    if resource_type == "Task":
        return resource.c.id == task
    if resource_type not in TABLET:
        raise _denied(f"on a clinic tablet see the one form they were given, not {resource_type} resources")
    own = condition(resource_type, patient_ids)
    assert own is not None
    via = TABLET[resource_type]
    if via is None:
        return own
    ref = search_reference.c
    answering = select(ref.rid).where(
        ref.resource_type == resource_type, ref.param == via, ref.target_type == "Task", ref.target_id == task
    )
    return and_(own, resource.c.rid.in_(answering))


def check_task_open(store: Any, task: str) -> None:
    """A tablet writes only while its form is open (a form sent or cancelled meanwhile is closed: 409)."""
    current = store.current("Task", task)
    status = current.content.get("status") if current is not None and current.content else None
    if status not in ("ready", "in-progress"):
        raise FhirError(409, [Issue("business-rule", "The form is closed: it has been sent or withdrawn")])


def check_request(code: str, args: tuple[str, ...], req: FhirRequest) -> None:
    """Interactions a patient never makes (``code``, ``args``: the request's interaction and path arguments)."""
    if code in ("search-system", "history-system", "history-type", "batch"):
        raise _denied("search, and read histories, one resource of their own at a time")
    if code == "search-type" and len(args) == 3:
        raise _denied("search their own data by type, not by compartment")
    if code in ("delete", "patch") or (code == "update" and len(args) < 2):
        raise _denied("do not delete, patch or update by search criteria")
    if any(name.split(":")[0] in ("_include", "_revinclude", "_has") or "." in name for name, _ in req.query):
        raise _denied("do not use _include, _revinclude, _has or chains")


def check_content(
    resource_type: str, content: dict[str, Any], rows: Any, patient_ids: list[str], task: str | None = None
) -> None:
    """A patient writes only what is theirs: one of the type's owning references points at their Patient (on a
    tablet, a response must also answer its one Task)."""
    params = OWN.get(resource_type)
    if params is None or (task is not None and resource_type not in TABLET):
        raise _denied(f"cannot write {resource_type} resources")
    via = TABLET.get(resource_type) if task is not None else None
    if via is not None and not any(
        row.param == via and row.target_type == "Task" and row.target_id == task for row in rows.references
    ):
        raise _denied(f"on a clinic tablet answer the form they were given (basedOn Task/{task})")
    if "" in params and content.get("id") in patient_ids:
        return
    for row in rows.references:
        if row.param in params and row.target_type == "Patient" and row.target_id in patient_ids:
            return
    raise _denied(f"write only their own {resource_type} (it must refer to their Patient)")


def check_readable(
    conn: Any, resource_type: str, resource_id: str, patient_ids: list[str], task: str | None = None
) -> None:
    """404 unless ``resource_type/resource_id`` is the patient's (or shared): existence never leaks."""
    restriction = condition(resource_type, patient_ids, task)
    if restriction is None:
        return
    found = conn.execute(
        select(resource.c.rid).where(
            resource.c.resource_type == resource_type, resource.c.id == resource_id, restriction
        )
    ).first()
    if found is None:
        raise not_found(f"{resource_type}/{resource_id} is not known")
