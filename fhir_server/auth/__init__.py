"""Who is asking, and what they may do.

- ``tokens``: OAuth2 access tokens (JWT) checked against the configured issuer, audience and keys (a JWKS URL in
  ``RYGGRAD_AUTH=jwt`` mode; the built-in development issuer's own key in ``RYGGRAD_AUTH=dev`` mode).
- ``dpop``: DPoP proofs (RFC 9449) binding a token to the client's key, with a replay cache (``replay``).
- ``principal``: the claims understood — role, organisation (HelseID orgnr), person (pid), practitioner (HPR) — and
  ``scopes``: SMART v1/v2 and HelseID-style ``nhn:ryggrad/…`` scopes as one set of permissions.
- ``authenticate``: the HTTP side (``Authorization`` and ``DPoP`` headers → a ``Principal`` or a 401);
  ``authorize``: the permission each interaction needs (403 when a scope is missing).
- ``dev_issuer``: the local development issuer (``ryggrad token``); it does not exist in ``jwt`` mode.
"""
