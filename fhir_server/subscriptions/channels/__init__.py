"""How notifications travel: ``rest_hook`` (HTTP to the subscriber), ``task`` (the server's own subscribers, in
the worker), and ``websocket`` (pings to clients bound to a Subscription, from the API process)."""


class DeliveryFailed(Exception):
    """The channel did not take the notification; the message says why (no response body, no health data)."""
