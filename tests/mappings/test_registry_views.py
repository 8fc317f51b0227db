"""The registry's SQL-on-FHIR views (``mappings/views/``) over a real workflow's records: an NNRR appointment opens
an episode, the patient answers the pre-consultation form (scored by the worker), the clinician finalises the
clinician form; each view's rows are what the indicators read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir_server.subscriptions.delivery import deliver
from fhir_server.views.over_store import run_view_over_store
from fhir_server.views.runner import run_view
from tests.profiles.test_registry_forms import PROFILES, answered_response
from tests.registry.conftest import consent
from tests.scoring.test_scores import response as scored_response

VIEWS = Path(__file__).resolve().parents[2] / "mappings" / "views"


def _view(name: str) -> dict[str, Any]:
    return json.loads((VIEWS / f"{name}.json").read_text())


def _rows(server: Any, name: str, **match: str) -> list[dict[str, Any]]:
    return [r for r in run_view_over_store(server, _view(name)) if all(r.get(k) == v for k, v in match.items())]


def _form(name: str) -> dict[str, Any]:
    return json.loads((PROFILES / f"Questionnaire-{name}.json").read_text())


def test_every_view_is_a_valid_view_definition():
    for path in sorted(VIEWS.glob("*.json")):
        view = json.loads(path.read_text())
        assert view["resourceType"] == "ViewDefinition" and view["name"] == path.stem
        assert list(run_view(view, [])) == []  # validated before it runs: a broken view raises


def test_the_views_flatten_a_registry_episode(dispatching, server, client):
    world, _, _ = dispatching
    world.push("2026-12-20T10:00")
    (episode,) = world.episodes()
    (task,) = world.tasks(episode)
    consent(client, f"Patient/{world.patient}")
    pre = scored_response(
        _form("nnrr-pre-consultation"),
        world.patient,
        {f"odi-{n}": 2 for n in range(1, 11)} | {"pain-nrs-rest": 7, "pain-nrs-activity": 8},
    )
    pre["basedOn"] = [{"reference": f"Task/{task['id']}"}]
    posted = client.post("/fhir/QuestionnaireResponse", json=pre)
    assert posted.status_code == 201, posted.text
    assert deliver(server, "registry-scores") == "done"

    (draft,) = [d for d in world.drafts(episode) if "nnrr-clinician" in d["questionnaire"]]  # N5's draft
    final = {**answered_response(_form("nnrr-clinician"), "completed"), "id": draft["id"]}
    final |= {k: draft[k] for k in ("subject", "extension") if k in draft}
    assert client.put(f"/fhir/QuestionnaireResponse/{draft['id']}", json=final).status_code == 200

    key = f"EpisodeOfCare/{episode['id']}"
    (row,) = _rows(server, "registry_episode", episode=key)
    assert row["registry"] == "nnrr" and row["patient"] == f"Patient/{world.patient}"
    assert row["unit"] == episode["managingOrganization"]["reference"]
    assert row["status"] == episode["status"]

    tasks = _rows(server, "registry_form_task", episode=key)
    assert [t["task"] for t in tasks] == [f"Task/{task['id']}"]
    assert tasks[0]["form"].startswith("https://ryggrad.no/fhir/Questionnaire/nnrr-pre-consultation")

    (clinician,) = _rows(server, "nnrr_clinician_form", episode=key)
    assert clinician["status"] == "completed" and clinician["visit_date"] == "2026-02-10"
    assert clinician["professions"] == 1 and clinician["coping_talk"] == "yes"

    (patient_form,) = _rows(server, "nnrr_patient_form", episode=key)
    assert patient_form["response"] == f"QuestionnaireResponse/{posted.json()['id']}"
    assert patient_form["status"] == "completed"

    scores = {r["score"]: r["value"] for r in _rows(server, "registry_score", response=patient_form["response"])}
    assert scores == {"odi-percent": 40, "pain-nrs-rest": 7, "pain-nrs-activity": 8}
