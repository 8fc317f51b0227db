"""A data release (P10): a ``ResearchStudy`` (profile registry-data-release) that states its research question,
its approval, its period, the registry it draws on, the views it releases, the researcher's organisation and how
dates are handled. A researcher's token names one (``Principal.study``); every request checks it is approved
(status ``approved`` or ``active``) and within its period, and the study's key (derived from the server's secret)
makes its pseudonyms and date offsets — the same in every request, different in every other study."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir_server.errors import FhirError, Issue
from fhir_server.secret_key import server_key
from fhir_server.settings import Settings

SD = "https://ryggrad.no/fhir/StructureDefinition/"
REGISTRY = SD + "registry"
DATE_HANDLING = SD + "release-date-handling"
RELEASED_VIEW = SD + "released-view"
APPROVED = frozenset({"approved", "active"})
DEMO_STUDY = "demo-study"  # the demo data's approved study: a development researcher token naming none gets it


@dataclass(frozen=True)
class Release:
    id: str
    registry: str
    shift_dates: bool
    views: tuple[str, ...]
    key: bytes


def _denied(reason: str) -> FhirError:
    return FhirError(403, [Issue("forbidden", f"Access denied: {reason}")])


def _extension_values(study: dict[str, Any], url: str) -> list[Any]:
    found = []
    for extension in study.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == url:
            found += [v for k, v in extension.items() if k.startswith("value")]
    return found


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def release_of(settings: Settings, study_id: str, study: dict[str, Any] | None, today: date) -> Release:
    """The release ``study`` (the ResearchStudy ``study_id``, None when there is none) grants today; 403 with the
    reason when it grants nothing."""
    if study is None:
        raise _denied(f"the data release ResearchStudy/{study_id} does not exist")
    status = study.get("status")
    if status not in APPROVED:
        raise _denied(f"the data release ResearchStudy/{study_id} is {status}, not approved")
    if not any(isinstance(o, dict) and o.get("name") for o in study.get("objective") or []):
        raise _denied(f"the data release ResearchStudy/{study_id} states no research question (P10)")
    period = study.get("period") or {}
    start, end = _day(period.get("start")), _day(period.get("end"))
    if (start is not None and today < start) or (end is not None and today > end):
        raise _denied(f"the data release ResearchStudy/{study_id} is not within its period")
    registries = [c.get("code") for c in _extension_values(study, REGISTRY) if isinstance(c, dict)]
    if len(registries) != 1 or not registries[0]:
        raise _denied(f"the data release ResearchStudy/{study_id} names no registry")
    handling = _extension_values(study, DATE_HANDLING)
    return Release(
        id=study_id,
        registry=str(registries[0]),
        shift_dates=(handling[0] if handling else "shift") != "keep",
        views=tuple(str(v) for v in _extension_values(study, RELEASED_VIEW)),
        key=server_key(settings, f"research-release:{study_id}"),
    )


def study_id_of(principal_study: str | None, settings: Settings) -> str:
    """The study a researcher's request is for: the token's, or (development issuer only) the demo study."""
    if principal_study:
        return principal_study
    if settings.auth == "dev":
        return DEMO_STUDY
    raise _denied("the researcher's token names no data release (study)")
