"""rest-hook: HTTP requests to the Subscription's endpoint.

- R4 criteria-based without a payload: an empty ``POST [endpoint]`` per event ("go and look").
- R4 criteria-based with a payload: the resource ``PUT [endpoint]/[type]/[id]`` (``DELETE`` when deleted).
- Topic-based (and any with the backport's payload content): ``POST [endpoint]`` of a notification Bundle.

Every request carries the Subscription's ``channel.header`` values, ``X-Ryggrad-Subscription`` and
``X-Ryggrad-Event-Id`` (the events' ids, by which the receiver de-duplicates a redelivery) and, when the
Subscription has a signing secret, ``X-Ryggrad-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>``.
Any 2xx answer is success; anything else, or no answer within the timeout, is a failure to retry.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import orjson

from fhir_server.subscriptions.channels import DeliveryFailed
from fhir_server.subscriptions.spec import SubscriptionSpec

SIGNATURE_HEADER = "X-Ryggrad-Signature"
EVENT_HEADER = "X-Ryggrad-Event-Id"
SUBSCRIPTION_HEADER = "X-Ryggrad-Subscription"
FHIR_JSON = "application/fhir+json"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance_s: float = 300.0) -> bool:
    """What a receiver does: the signature matches and is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, body, timestamp), header)


class RestHook:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def send(
        self,
        spec: SubscriptionSpec,
        secret: str | None,
        method: str,
        url: str,
        body: dict | None,
        event_ids: list[str],
    ) -> None:
        content = orjson.dumps(body) if body is not None else b""
        headers = {name: value for name, value in spec.headers}
        headers[SUBSCRIPTION_HEADER] = spec.id
        if event_ids:
            headers[EVENT_HEADER] = ",".join(event_ids)
        if body is not None:
            headers["Content-Type"] = FHIR_JSON
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, content, int(time.time()))
        timeout = spec.timeout_s or self.timeout_s
        try:
            response = self._client.request(method, url, content=content, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            raise DeliveryFailed(f"no answer from the endpoint within {timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the endpoint could not be reached ({type(exc).__name__})") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"the endpoint answered HTTP {response.status_code}")

    def close(self) -> None:
        self._client.close()
