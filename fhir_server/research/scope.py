"""Who and what a data release covers. Its patients: those with an episode of the release's registry (not
entered in error) and — where the registry needs consent (NNRR; OPR runs on an exemption, P7) — an active consent
to the registry that permits research use (the nested provision with purpose HRESCH). The list is kept per study
in ``research_scope`` and worked out again when a Consent, EpisodeOfCare or Patient has changed since (one indexed
look at the history per request). What of theirs: the registry's own data — its episodes, the responses to its
forms and the scores derived from them — and, for the other released types, what refers to a covered patient.
Every restriction is a condition in the database query, so counts, paging, includes and chains see only this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, select

from fhir_server.auth.patient_scope import rows_of_patients
from fhir_server.research.release import Release
from fhir_server.research.rules import ReleaseRules
from fhir_server.storage.locks import serialise
from fhir_server.storage.schema import (
    research_scope,
    research_scope_state,
    resource,
    resource_history,
    search_reference,
    search_token,
)
from workers.registry.definitions import REGISTRY_SYSTEM
from workers.registry.registries import registries

WATCHED = ("Consent", "EpisodeOfCare", "Patient")
RESEARCH_PURPOSE = ("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HRESCH")
REGISTRY_EXTENSION = "https://ryggrad.no/fhir/StructureDefinition/registry"


def _consent_required(server: Any, registry: str) -> bool:
    definition = registries(server).get(registry)
    return True if definition is None else definition.consent_required


def registry_forms(server: Any, registry: str) -> tuple[str, ...]:
    """The canonical URLs (without version) of the registry's forms."""
    definition = registries(server).get(registry)
    if definition is None:
        return ()
    return tuple(sorted({a.questionnaire.split("|")[0] for a in definition.actions}))


def _fingerprint(server: Any, release: Release) -> str:
    return f"{release.registry}|consent={_consent_required(server, release.registry)}"


def ensure_fresh(server: Any, release: Release) -> None:
    """Work the release's patients out again if what decides them has changed since."""
    fingerprint = _fingerprint(server, release)
    state_t, h = research_scope_state.c, resource_history.c
    with server.db.reading() as conn:
        state = conn.execute(select(state_t).where(state_t.study == release.id)).first()
        if state is not None and state.fingerprint == fingerprint:
            changed = conn.execute(
                select(func.max(h.seq)).where(h.seq > state.watermark, h.resource_type.in_(WATCHED))
            ).scalar()
            if changed is None:
                return
    with server.db.writing() as conn:
        serialise(conn, server.db.is_postgres, f"research-scope:{release.id}")
        top = conn.execute(select(func.max(h.seq))).scalar() or 0
        state = conn.execute(select(state_t).where(state_t.study == release.id)).first()
        if state is not None and state.fingerprint == fingerprint and state.watermark >= top:
            return  # another request has just done it
        patients = covered_patients(conn, server, release.registry)
        conn.execute(delete(research_scope).where(research_scope.c.study == release.id))
        rows = [{"study": release.id, "patient_id": p} for p in sorted(patients)]
        for start in range(0, len(rows), 1000):
            conn.execute(research_scope.insert(), rows[start : start + 1000])
        values = {"watermark": top, "fingerprint": fingerprint, "refreshed_at": datetime.now(UTC).replace(tzinfo=None)}
        if state is None:
            conn.execute(research_scope_state.insert().values(study=release.id, **values))
        else:
            conn.execute(research_scope_state.update().where(state_t.study == release.id).values(**values))


def covered_patients(conn: Any, server: Any, registry: str) -> set[str]:
    tok, ref = search_token.c, search_reference.c
    episodes = select(tok.rid).where(
        tok.resource_type == "EpisodeOfCare", tok.param == "registry", tok.code == registry
    )
    withdrawn = select(tok.rid).where(
        tok.resource_type == "EpisodeOfCare", tok.param == "status", tok.code == "entered-in-error"
    )
    query = select(ref.target_id).where(
        ref.resource_type == "EpisodeOfCare",
        ref.param == "patient",
        ref.target_type == "Patient",
        ref.rid.in_(episodes),
        ref.rid.not_in(withdrawn),
    )
    patients = {row.target_id for row in conn.execute(query) if row.target_id}
    if not _consent_required(server, registry):
        return patients
    active = select(tok.rid).where(tok.resource_type == "Consent", tok.param == "status", tok.code == "active")
    consents = select(resource.c.content).where(
        resource.c.resource_type == "Consent", resource.c.rid.in_(active), ~resource.c.deleted
    )
    consenting = set()
    for row in conn.execute(consents):
        content = row.content or {}
        if _permits_research(content, registry):
            reference = str((content.get("patient") or {}).get("reference") or "")
            if reference.startswith("Patient/"):
                consenting.add(reference.split("/", 1)[1])
    return patients & consenting


def _permits_research(consent: dict[str, Any], registry: str) -> bool:
    """An active consent to ``registry`` whose provisions permit research use."""
    registries = [
        (e.get("valueCoding") or {})
        for e in consent.get("extension") or []
        if isinstance(e, dict) and e.get("url") == REGISTRY_EXTENSION
    ]
    if not any(c.get("system") == REGISTRY_SYSTEM and c.get("code") == registry for c in registries):
        return False
    provision = consent.get("provision") or {}
    if provision.get("type", "permit") != "permit":
        return False
    for nested in provision.get("provision") or []:
        purposes = {(p.get("system"), p.get("code")) for p in nested.get("purpose") or [] if isinstance(p, dict)}
        if RESEARCH_PURPOSE in purposes:
            return nested.get("type", "permit") == "permit"
    return False


def condition(server: Any, release: Release, rules: ReleaseRules, resource_type: str) -> ColumnElement[bool] | None:
    """The rows of ``resource_type`` the release shows (None: all of them, for the shared types)."""
    if resource_type in rules.shared:
        return None
    released = rules.released.get(resource_type)
    if released is None:
        return false()
    covered = select(research_scope.c.patient_id).where(research_scope.c.study == release.id)
    restriction = rows_of_patients(resource_type, released.patient_params, covered)
    registry_data = _registry_condition(server, release, resource_type)
    return restriction if registry_data is None else and_(restriction, registry_data)


def _registry_condition(server: Any, release: Release, resource_type: str) -> ColumnElement[bool] | None:
    """The release's registry's own data among the patients' (None: no such distinction for the type)."""
    ref, tok = search_reference.c, search_token.c
    if resource_type == "EpisodeOfCare":
        ours = select(tok.rid).where(
            tok.resource_type == "EpisodeOfCare", tok.param == "registry", tok.code == release.registry
        )
        return resource.c.rid.in_(ours)
    forms = registry_forms(server, release.registry)
    responses = select(ref.rid).where(
        ref.resource_type == "QuestionnaireResponse", ref.param == "questionnaire", ref.url.in_(forms)
    )
    if resource_type == "QuestionnaireResponse":
        return resource.c.rid.in_(responses)
    if resource_type == "Observation":
        answered = resource.alias("released_response")
        response_ids = select(answered.c.id).where(answered.c.rid.in_(responses))
        derived = select(ref.rid).where(
            ref.resource_type == "Observation",
            ref.param == "derived-from",
            ref.target_type == "QuestionnaireResponse",
            ref.target_id.in_(response_ids),
        )
        return resource.c.rid.in_(derived)
    return None


def covered_among(server: Any, release: Release, patient_ids: list[str]) -> set[str]:
    """Which of ``patient_ids`` the release covers."""
    t = research_scope.c
    found: set[str] = set()
    with server.db.reading() as conn:
        for start in range(0, len(patient_ids), 500):
            chunk = patient_ids[start : start + 500]
            rows = conn.execute(select(t.patient_id).where(t.study == release.id, t.patient_id.in_(chunk)))
            found.update(row.patient_id for row in rows)
    return found
