"""A resource as a researcher under one data release sees it (``release-rules.json``): only the released elements;
no names, identifiers, addresses, telecom, narrative, notes or free-text answers anywhere; the birth date as its
year; every other date moved by the patient's offset for the study (unless the release keeps dates); and every id
and reference to released data a pseudonym of the study's, so researchers join on them without learning who.
References to anything else than released or shared types are dropped; shared resources (the forms, value sets,
the units) pass unchanged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from fhir_server.research.release import Release
from fhir_server.research.rules import ReleaseRules

_DATE = re.compile(r"^(\d{4})(-(\d{2})(-(\d{2})(T.*)?)?)?$")
_REFERENCE = re.compile(r"^(?:.*/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?$")


def pseudonym(release: Release, resource_type: str, resource_id: str) -> str:
    """The study's stable pseudonym for a resource id: 26 characters of a keyed hash (never reversible without
    the study's key and the table of issued pseudonyms)."""
    digest = hmac.new(release.key, f"{resource_type}/{resource_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:16]).decode("ascii").rstrip("=").lower()


def day_offset(release: Release, patient_id: str, spread: int) -> int:
    """The patient's date offset in days for the study, in [-spread, spread], never 0."""
    digest = hmac.new(release.key, f"date-shift/{patient_id}".encode(), hashlib.sha256).digest()
    offset = int.from_bytes(digest[:4], "big") % (2 * spread) - spread
    return offset if offset < 0 else offset + 1


def shift(value: str, days: int) -> str:
    """A FHIR date, dateTime or instant moved by ``days`` (its precision kept; a year or year-month moves only
    when the shifted day lands in another month or year, as the full date would)."""
    match = _DATE.match(value)
    if not match or days == 0:
        return value
    if match.group(6):  # a dateTime with a time
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        moved = (moment + timedelta(days=days)).isoformat()
        return moved.replace("+00:00", "Z") if value.endswith("Z") else moved
    year, month, day = int(match.group(1)), int(match.group(3) or 7), int(match.group(5) or 1)
    try:
        moved_day = date(year, month, day) + timedelta(days=days)
    except ValueError:
        return value
    if match.group(5):
        return moved_day.isoformat()
    if match.group(3):
        return moved_day.isoformat()[:7]
    return moved_day.isoformat()[:4]


class Deidentifier:
    """Turns response bodies into what the release shows; ``issued`` collects the pseudonyms handed out
    ((type, id, pseudonym)), which ``pseudonyms.remember`` records so that they can be used in requests."""

    def __init__(
        self, release: Release, rules: ReleaseRules, covered: Callable[[list[str]], set[str]] | None = None
    ) -> None:
        """``covered``: which of some patient ids the release covers (for a Group's members)."""
        self.release, self.rules, self.covered = release, rules, covered
        self.issued: set[tuple[str, str, str]] = set()
        self.real_to_pseudo: dict[str, str] = {}  # "Type/id" → "Type/pseudonym", for rewriting links and messages

    def ref(self, resource_type: str, resource_id: str) -> str:
        alias = pseudonym(self.release, resource_type, resource_id)
        self.issued.add((resource_type, resource_id, alias))
        self.real_to_pseudo[f"{resource_type}/{resource_id}"] = f"{resource_type}/{alias}"
        return alias

    def body(self, body: dict[str, Any] | None) -> dict[str, Any] | None:
        if not isinstance(body, dict):
            return body
        kind = body.get("resourceType")
        if kind == "Bundle":
            return self._bundle(body)
        if kind == "OperationOutcome":
            return self.outcome(body)
        return self.resource(body)

    def _bundle(self, bundle: dict[str, Any]) -> dict[str, Any]:
        entries = []
        for entry in bundle.get("entry") or []:
            if not isinstance(entry, dict):
                continue
            resource = entry.get("resource")
            shown = self.body(resource) if isinstance(resource, dict) else None
            if isinstance(resource, dict) and shown is None:
                continue
            kept: dict[str, Any] = {k: v for k, v in entry.items() if k in ("search", "response")}
            if shown is not None:
                kept = {"fullUrl": f"{shown['resourceType']}/{shown['id']}", "resource": shown, **kept}
            response = kept.get("response")
            if isinstance(response, dict):  # a batch's answers: status only, and the outcome de-identified
                kept["response"] = {k: v for k, v in response.items() if k == "status"}
                if isinstance(response.get("outcome"), dict):
                    kept["response"]["outcome"] = self.outcome(response["outcome"])
            entries.append(kept)
        result = {k: v for k, v in bundle.items() if k in ("resourceType", "id", "type", "total", "link")}
        result["link"] = [{**link, "url": self.text(str(link.get("url", "")))} for link in bundle.get("link") or []]
        if not result["link"]:
            result.pop("link")
        if entries:
            result["entry"] = entries
        return result

    def outcome(self, outcome: dict[str, Any]) -> dict[str, Any]:
        issues = []
        for issue in outcome.get("issue") or []:
            kept = {k: v for k, v in issue.items() if k in ("severity", "code", "details", "diagnostics")}
            if isinstance(kept.get("diagnostics"), str):
                kept["diagnostics"] = self.text(kept["diagnostics"])
            issues.append(kept)
        return {"resourceType": "OperationOutcome", "issue": issues}

    def text(self, value: str) -> str:
        """``value`` (a message, a URL, however it quotes them) with every real id handed out or translated so far
        replaced by its pseudonym."""
        for real, alias in self.real_to_pseudo.items():
            value = value.replace(real.split("/", 1)[1], alias.split("/", 1)[1])
        return value

    def resource(self, content: dict[str, Any]) -> dict[str, Any] | None:
        """The released form of one resource; None when its type is not released."""
        resource_type = str(content.get("resourceType"))
        if resource_type in self.rules.shared:
            return content
        released = self.rules.released.get(resource_type)
        if released is None:
            return None
        if resource_type == "Group":
            content = self._covered_members(content)
        patient = self._patient_of(resource_type, content)
        days = (
            day_offset(self.release, patient, self.rules.date_shift_days) if self.release.shift_dates and patient else 0
        )
        shown: dict[str, Any] = {"resourceType": resource_type, "id": self.ref(resource_type, str(content["id"]))}
        profiles = (content.get("meta") or {}).get("profile")
        if profiles:
            shown["meta"] = {"profile": list(profiles)}
        for key, value in content.items():
            if key in released.keep and key not in self.rules.drop_everywhere:
                cleaned = self._value(key, value, days)
                if cleaned is not None:
                    shown[key] = cleaned
        if resource_type == "Patient" and isinstance(content.get("birthDate"), str):
            shown["birthDate"] = content["birthDate"][:4]  # the year only
        return shown

    def _covered_members(self, group: dict[str, Any]) -> dict[str, Any]:
        """The Group with only the members the release covers (the others are not even counted)."""
        members = [m for m in group.get("member") or [] if isinstance(m, dict)]
        by_patient = [(m, self._patient_id(m.get("entity"))) for m in members]
        wanted = [p for _, p in by_patient if p]
        keep = self.covered(wanted) if self.covered is not None and wanted else set()
        return {**group, "member": [m for m, p in by_patient if p in keep]}

    @staticmethod
    def _patient_id(reference: Any) -> str | None:
        match = _REFERENCE.match(str((reference or {}).get("reference") or "")) if isinstance(reference, dict) else None
        return match.group(2) if match and match.group(1) == "Patient" else None

    def _patient_of(self, resource_type: str, content: dict[str, Any]) -> str | None:
        if resource_type == "Patient":
            return str(content.get("id"))
        for key in ("subject", "patient"):
            reference = (
                str((content.get(key) or {}).get("reference") or "") if isinstance(content.get(key), dict) else ""
            )
            if reference.startswith("Patient/"):
                return reference.split("/")[1]
        return None

    def _value(self, key: str, value: Any, days: int) -> Any:
        if isinstance(value, list):
            items = [self._value(key, item, days) for item in value]
            kept = [item for item in items if item is not None]
            return kept or None
        if isinstance(value, dict):
            return self._element(value, days)
        if isinstance(value, str) and key in self.rules.date_keys:
            return shift(value, days)
        return value

    def _element(self, element: dict[str, Any], days: int) -> dict[str, Any] | None:
        if "reference" in element and isinstance(element.get("reference"), str):
            return self._reference(element)
        shown: dict[str, Any] = {}
        for key, value in element.items():
            if key in self.rules.drop_everywhere:
                continue
            cleaned = self._value(key, value, days)
            if cleaned is not None:
                shown[key] = cleaned
        return shown or None

    def _reference(self, reference: dict[str, Any]) -> dict[str, Any] | None:
        """A reference to released data as its pseudonym, to shared data as it is; anything else is dropped (as
        are the display and identifier, which may name someone)."""
        match = _REFERENCE.match(str(reference["reference"]))
        if not match:
            return None
        resource_type, resource_id = match.group(1), match.group(2)
        if resource_type in self.rules.shared:
            return {"reference": f"{resource_type}/{resource_id}"}
        if resource_type not in self.rules.released:
            return None
        return {"reference": f"{resource_type}/{self.ref(resource_type, resource_id)}"}
