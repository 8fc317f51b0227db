"""The registry's subscription topics: R5 SubscriptionTopic definitions (``profiles/topics/``, authored in
``ig/input/topics/``) that topic-based Subscriptions name in ``criteria``.

A topic triggers on a resource type, for the interactions it lists, when its FHIRPath criterion holds with
``%previous`` (the version before the change; empty for a create) and ``%current`` (the version written; empty for
a delete). Data in, data out: a new topic is a new file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fhirpathpy
import orjson

STRUCTURE = "http://hl7.org/fhir/StructureDefinition/"


@dataclass(frozen=True)
class Trigger:
    resource_type: str
    interactions: frozenset[str]  # create | update | delete
    criterion: Callable[..., list[Any]] | None
    expression: str | None

    def fires(self, action: str, previous: dict[str, Any] | None, current: dict[str, Any] | None) -> bool:
        if action not in self.interactions:
            return False
        if self.criterion is None:
            return True
        context = {"previous": previous if previous is not None else [], "current": current if current else []}
        result = self.criterion({}, context)
        return result == [True]


@dataclass(frozen=True)
class Topic:
    url: str
    title: str
    triggers: tuple[Trigger, ...]
    filter_parameters: dict[str, frozenset[str]]  # resource type → the search parameters a filter may use
    definition: dict[str, Any]

    @property
    def resource_types(self) -> frozenset[str]:
        return frozenset(t.resource_type for t in self.triggers)

    def fires(
        self, resource_type: str, action: str, previous: dict[str, Any] | None, current: dict[str, Any] | None
    ) -> bool:
        return any(t.resource_type == resource_type and t.fires(action, previous, current) for t in self.triggers)


def _type_of(resource: str) -> str:
    return resource[len(STRUCTURE) :] if resource.startswith(STRUCTURE) else resource


def topic_from_definition(definition: dict[str, Any]) -> Topic:
    triggers = []
    for raw in definition.get("resourceTrigger") or []:
        expression = raw.get("fhirPathCriteria")
        triggers.append(
            Trigger(
                resource_type=_type_of(str(raw.get("resource"))),
                interactions=frozenset(raw.get("supportedInteraction") or ("create", "update", "delete")),
                criterion=fhirpathpy.compile(expression) if expression else None,
                expression=expression,
            )
        )
    filters: dict[str, set[str]] = {}
    for raw in definition.get("canFilterBy") or []:
        filters.setdefault(_type_of(str(raw.get("resource"))), set()).add(str(raw.get("filterParameter")))
    return Topic(
        url=str(definition["url"]),
        title=str(definition.get("title") or definition["url"]),
        triggers=tuple(triggers),
        filter_parameters={k: frozenset(v) for k, v in filters.items()},
        definition=definition,
    )


class Topics:
    """The topics this server offers, by canonical URL."""

    def __init__(self, topics: list[Topic]) -> None:
        self._by_url = {t.url: t for t in topics}

    @classmethod
    def load(cls, folder: Path) -> Topics:
        definitions = [orjson.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
        return cls([topic_from_definition(d) for d in definitions if d.get("resourceType") == "SubscriptionTopic"])

    def get(self, url: str) -> Topic | None:
        return self._by_url.get(url.split("|", 1)[0])

    def __iter__(self) -> Iterator[Topic]:
        return iter(self._by_url.values())

    def for_type(self, resource_type: str) -> list[Topic]:
        return [t for t in self._by_url.values() if resource_type in t.resource_types]
