"""The scoring worker: a QuestionnaireResponse changed → its scores brought up to date.

A completed response gets one Observation per score its answers allow; a response scored before is scored again
(each Observation updated where its score changed), and a score it no longer allows — or every score, once the
response is no longer completed — is withdrawn (``entered-in-error``). Idempotent: an event handled twice, or a
response scored twice, leaves the same Observations.
"""

from __future__ import annotations

import copy
from typing import Any

from fhir_server.auth.ownership import owners
from fhir_server.rest.context import Context
from fhir_server.rest.resources import find_questionnaires
from fhir_server.rest.versioning import instant
from fhir_server.storage.store import StoredVersion
from fhir_server.subscriptions.channels.task import exactly_once, subscriber
from fhir_server.validation.questionnaire_response import resolve_questionnaire
from workers.registry.records import create, find, update
from workers.scoring.answers import ScoredItems
from workers.scoring.instruments import Limits, score_all
from workers.scoring.observations import IDENTIFIER_SYSTEM, identifier, observation
from workers.scoring.value_sets import load

NAME = "ryggrad.registry.score"


@subscriber(NAME)
def on_response(server: Any, payload: dict[str, Any]) -> None:
    with exactly_once(server, payload) as ctx:
        if ctx is not None:
            score_response(ctx, payload["id"])


def _scores(ctx: Context, current: StoredVersion) -> dict[str, dict[str, Any]]:
    """The Observations the response's answers call for, by identifier."""
    response_id, response = current.id, current.content or {}
    canonical = response.get("questionnaire")
    if response.get("status") != "completed" or not response.get("subject") or not isinstance(canonical, str):
        return {}
    questionnaire = resolve_questionnaire(canonical, lambda url: find_questionnaires(ctx, url))
    if questionnaire is None:
        return {}
    settings = ctx.server.settings
    value_set = load(settings.scoring_eq5d_value_set, settings.scoring_value_set_dir)
    answers = ScoredItems(questionnaire).answers(response)
    effective = response.get("authored") or instant(current.last_updated)
    return {
        identifier(response_id, score.key): observation(score, response_id, response, effective)
        for score in score_all(answers, Limits.from_settings(settings), value_set)
    }


def _identifier(content: dict[str, Any]) -> str | None:
    return next((i.get("value") for i in content.get("identifier") or [] if i.get("system") == IDENTIFIER_SYSTEM), None)


def score_response(ctx: Context, response_id: str) -> list[str]:
    """Bring the scores of response ``response_id`` up to date; the ids of the Observations written."""
    current = ctx.store.current("QuestionnaireResponse", response_id)
    response = current.content if current is not None and not current.deleted and current.content else {}
    wanted = _scores(ctx, current) if current is not None and response else {}
    written = []
    existing = find(ctx, "Observation", [("derived-from", f"QuestionnaireResponse/{response_id}")], limit=1000)
    for stored in existing:
        content = stored.content or {}
        key = _identifier(content)
        if key is None:
            continue  # an Observation someone else derived from the response
        target = wanted.pop(key, None)
        if target is None:
            if content.get("status") == "entered-in-error":
                continue
            target = {**copy.deepcopy(content), "status": "entered-in-error"}
        else:
            target = {**target, "id": stored.id}
            if {k: v for k, v in content.items() if k not in ("meta", "id")} == {
                k: v for k, v in target.items() if k not in ("meta", "id")
            }:
                continue
            target["meta"] = {**(content.get("meta") or {}), "profile": target["meta"]["profile"]}
        written.append(update(ctx, stored, target).id)
    units = owners(response) if response else set()
    for content in wanted.values():
        written.append(create(ctx, "Observation", content, units).id)
    return written
