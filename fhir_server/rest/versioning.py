"""Versions on the wire: meta stamping, ETag, Last-Modified, and the preconditions that use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fhir_server.errors import bad_request, precondition_failed
from fhir_server.storage.store import StoredVersion

_ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]+)"?\s*$')


def instant(dt: datetime) -> str:
    """A stored (naive UTC) time as a FHIR instant."""
    return dt.isoformat(timespec="microseconds") + "Z"


def etag(version_id: int) -> str:
    return f'W/"{version_id}"'


def http_date(dt: datetime) -> str:
    return format_datetime(dt.replace(tzinfo=UTC), usegmt=True)


def version_headers(version: StoredVersion) -> dict[str, str]:
    return {"ETag": etag(version.version_id), "Last-Modified": http_date(version.last_updated)}


def parse_etag(value: str) -> int:
    match = _ETAG.match(value)
    if not match:
        raise bad_request('If-Match must be a version ETag such as W/"3"')
    return int(match.group(1))


def check_if_match(header: str | None, current: StoredVersion | None) -> None:
    if header is None:
        return
    expected = parse_etag(header)
    if current is None or current.deleted:
        raise precondition_failed(f"If-Match: version {expected} is not the current version (there is none)")
    if current.version_id != expected:
        raise precondition_failed(f"If-Match: version {expected} is not the current version {current.version_id}")


def parse_http_date(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise bad_request("If-Modified-Since must be an HTTP date") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def next_timestamp(now: datetime, previous: StoredVersion | None) -> datetime:
    """Keep lastUpdated strictly increasing per resource even if the clock steps back."""
    if previous is not None and now <= previous.last_updated:
        return previous.last_updated + timedelta(microseconds=1)
    return now


def stamp_meta(content: dict[str, Any], resource_id: str, version_id: int, last_updated: datetime) -> dict[str, Any]:
    """A copy of ``content`` with the server's id, versionId and lastUpdated; other meta kept."""
    stamped = dict(content)
    stamped["id"] = resource_id
    meta = dict(stamped.get("meta") or {})
    meta["versionId"] = str(version_id)
    meta["lastUpdated"] = instant(last_updated)
    stamped["meta"] = meta
    # keep resourceType, id, meta first as FHIR JSON shows them
    head = {"resourceType": stamped.pop("resourceType"), "id": stamped.pop("id"), "meta": stamped.pop("meta")}
    return head | stamped


def without_server_meta(content: dict[str, Any] | None) -> dict[str, Any] | None:
    """The resource as a client controls it: server-assigned meta removed (for no-op detection)."""
    if content is None:
        return None
    stripped = dict(content)
    meta = dict(stripped.get("meta") or {})
    meta.pop("versionId", None)
    meta.pop("lastUpdated", None)
    if meta:
        stripped["meta"] = meta
    else:
        stripped.pop("meta", None)
    return stripped
