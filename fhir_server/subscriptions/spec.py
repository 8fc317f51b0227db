"""A Subscription resource read once into what matching and delivery need (``SubscriptionSpec``).

Two kinds share one resource type:

- criteria-based (R4): ``criteria`` is a search (``Appointment?status=booked``) evaluated on each changed
  resource of that type by the search engine;
- topic-based (the R5 backport for R4): ``criteria`` is a topic's canonical URL, with optional
  ``backport-filter-criteria`` searches narrowing it.

Channels: ``rest-hook``, ``websocket``, and the server's own ``task`` channel (a worker function, for internal
subscribers), named by the backport's ``backport-channel-type`` extension on ``channel.type``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fhir_server.auth.ownership import owners
from fhir_server.errors import FhirError, Issue

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
FILTER_CRITERIA = BACKPORT + "backport-filter-criteria"
PAYLOAD_CONTENT = BACKPORT + "backport-payload-content"
HEARTBEAT_PERIOD = BACKPORT + "backport-heartbeat-period"
TIMEOUT = BACKPORT + "backport-timeout"
MAX_COUNT = BACKPORT + "backport-max-count"
CHANNEL_TYPE = BACKPORT + "backport-channel-type"
BACKPORT_PROFILE = BACKPORT + "backport-subscription"
#: The server's own channel types (``backport-channel-type`` codings).
CHANNEL_TYPE_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/subscription-channel-type"
#: The per-subscription secret a rest-hook's requests are signed with: given on write, kept out of the resource.
SECRET_EXTENSION = "https://ryggrad.no/fhir/StructureDefinition/subscription-signing-secret"
TASK_ENDPOINT_PREFIX = "urn:ryggrad:task:"

CHANNELS = ("rest-hook", "websocket", "task")
CONTENTS = ("empty", "id-only", "full-resource")


def invalid(message: str, expression: str = "Subscription") -> FhirError:
    return FhirError(422, [Issue("invalid", message, expression=(expression,))])


@dataclass(frozen=True)
class Search:
    """A search as a resource type and its parameters (``Appointment?status=booked``)."""

    resource_type: str
    params: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str, expression: str) -> Search:
        path, _, query = text.strip().partition("?")
        resource_type = path.rstrip("/").rsplit("/", 1)[-1]
        if not resource_type or not resource_type[0].isupper() or not resource_type.isalnum():
            raise invalid(f"'{text}' is not a search: it must start with a resource type (Appointment?…)", expression)
        return cls(resource_type, tuple(parse_qsl(query, keep_blank_values=True)))


@dataclass(frozen=True)
class SubscriptionSpec:
    id: str
    version_id: int
    status: str
    owners: frozenset[str]
    channel: str  # rest-hook | websocket | task
    endpoint: str | None
    headers: tuple[tuple[str, str], ...] = ()
    criteria: Search | None = None  # criteria-based
    topic: str | None = None  # topic-based: the topic's canonical URL
    filters: tuple[Search, ...] = ()
    payload_mime: str | None = None  # R4 channel.payload
    content: str | None = None  # empty | id-only | full-resource (the backport); None: R4 criteria-based
    heartbeat_s: int | None = None
    timeout_s: int | None = None
    max_count: int = 1
    end: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_topic(self) -> bool:
        return self.topic is not None

    @property
    def sends_bundles(self) -> bool:
        """Notifications as Bundles with a SubscriptionStatus (topic-based, or a backport payload content);
        otherwise R4: an empty POST, or the resource PUT to the endpoint."""
        return self.is_topic or self.content is not None

    @property
    def task_name(self) -> str | None:
        if self.channel == "task" and self.endpoint and self.endpoint.startswith(TASK_ENDPOINT_PREFIX):
            return self.endpoint[len(TASK_ENDPOINT_PREFIX) :]
        return None


def _extensions(element: Any, url: str) -> list[dict[str, Any]]:
    if not isinstance(element, dict):
        return []
    return [e for e in element.get("extension") or [] if isinstance(e, dict) and e.get("url") == url]


def _one_value(element: Any, url: str, key: str) -> Any:
    found = _extensions(element, url)
    return found[0].get(key) if found else None


def _channel_type(channel: dict[str, Any]) -> str:
    coding = _one_value(channel.get("_type"), CHANNEL_TYPE, "valueCoding")
    if isinstance(coding, dict):
        if coding.get("system") == CHANNEL_TYPE_SYSTEM and coding.get("code") == "task":
            return "task"
        raise invalid(
            f"Channel type {coding.get('system')}|{coding.get('code')} is not supported", "Subscription.channel.type"
        )
    kind = channel.get("type")
    if kind not in ("rest-hook", "websocket"):
        raise invalid(
            f"Channel type '{kind}' is not supported: use rest-hook or websocket", "Subscription.channel.type"
        )
    return str(kind)


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    from fhir_server.search.dates import parse_date_range

    try:
        return parse_date_range(text, "end").low
    except FhirError:
        raise invalid("Subscription.end is not a valid instant", "Subscription.end") from None


def parse_spec(resource_id: str, version_id: int, content: dict[str, Any], topics: Any) -> SubscriptionSpec:
    """``content`` (a stored Subscription) as a spec; 422 with what is wrong. ``topics``: the known topics
    (``topics.Topics``), which a topic-based Subscription must name."""
    channel = content.get("channel")
    if not isinstance(channel, dict):
        raise invalid("A Subscription needs a channel", "Subscription.channel")
    kind = _channel_type(channel)
    endpoint = channel.get("endpoint")
    if kind == "rest-hook":
        parts = urlsplit(str(endpoint or ""))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise invalid("A rest-hook channel needs an http(s) endpoint", "Subscription.channel.endpoint")
    if kind == "task" and not (isinstance(endpoint, str) and endpoint.startswith(TASK_ENDPOINT_PREFIX)):
        raise invalid(
            f"A task channel's endpoint is {TASK_ENDPOINT_PREFIX}<task name>", "Subscription.channel.endpoint"
        )
    headers = []
    for text in channel.get("header") or []:
        name, colon, value = str(text).partition(":")
        if not colon or not name.strip() or any(c in name for c in " \r\n") or any(c in value for c in "\r\n"):
            raise invalid(f"Channel header '{text}' is not 'Name: value'", "Subscription.channel.header")
        headers.append((name.strip(), value.strip()))
    payload = channel.get("payload")
    content_code = _one_value(channel.get("_payload"), PAYLOAD_CONTENT, "valueCode")
    if content_code is not None and content_code not in CONTENTS:
        raise invalid(f"Payload content '{content_code}' is not one of {', '.join(CONTENTS)}", "Subscription.channel")
    if payload is not None and payload not in ("application/fhir+json", "application/json"):
        raise invalid("The payload is sent as application/fhir+json", "Subscription.channel.payload")
    criteria_text = content.get("criteria")
    if not isinstance(criteria_text, str) or not criteria_text.strip():
        raise invalid("A Subscription needs criteria", "Subscription.criteria")
    criteria: Search | None = None
    topic: str | None = None
    filters = tuple(
        Search.parse(str(e.get("valueString", "")), "Subscription.criteria")
        for e in _extensions(content.get("_criteria"), FILTER_CRITERIA)
    )
    if "://" in criteria_text.split("?", 1)[0]:  # a canonical URL: topic-based
        topic = criteria_text.strip()
        known = topics.get(topic)
        if known is None:
            raise invalid(f"Topic '{topic}' is not known to this server", "Subscription.criteria")
        for search in filters:
            allowed = known.filter_parameters.get(search.resource_type)
            if allowed is None:
                raise invalid(
                    f"Filter '{search.resource_type}?…' names a type the topic does not trigger on",
                    "Subscription.criteria",
                )
            for name, _ in search.params:
                if name.split(":", 1)[0].split(".", 1)[0] not in allowed:
                    raise invalid(
                        f"Topic {topic} filters {search.resource_type} by {', '.join(sorted(allowed))} only",
                        "Subscription.criteria",
                    )
        content_code = content_code or "id-only"
    else:
        if filters:
            raise invalid("Filter criteria belong to topic-based Subscriptions", "Subscription.criteria")
        criteria = Search.parse(criteria_text, "Subscription.criteria")
    heartbeat = _one_value(channel, HEARTBEAT_PERIOD, "valueUnsignedInt")
    timeout = _one_value(channel, TIMEOUT, "valueUnsignedInt")
    max_count = _one_value(channel, MAX_COUNT, "valuePositiveInt") or 1
    return SubscriptionSpec(
        id=resource_id,
        version_id=version_id,
        status=str(content.get("status") or "requested"),
        owners=frozenset(owners(content)),
        channel=kind,
        endpoint=str(endpoint) if endpoint else None,
        headers=tuple(headers),
        criteria=criteria,
        topic=topic,
        filters=filters,
        payload_mime=payload if isinstance(payload, str) else None,
        content=content_code,
        heartbeat_s=int(heartbeat) if isinstance(heartbeat, int) and heartbeat > 0 else None,
        timeout_s=int(timeout) if isinstance(timeout, int) and timeout > 0 else None,
        max_count=int(max_count) if isinstance(max_count, int) and max_count > 0 else 1,
        end=_instant(content.get("end")),
        raw=content,
    )
