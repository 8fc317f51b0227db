"""Opaque, sealed paging tokens: the search and where it stands, encrypted so that parameters (an FNR, say)
never appear in a paging link, and tamper-proof so that a client cannot forge a cursor."""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fhir_server.errors import bad_request

Params = list[tuple[str, str]]
Cursor = dict[str, Any] | None  # where the next page starts (JSON: sort values and rid)


class PageTokens:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, resource_type: str, params: Params, cursor: Cursor) -> str:
        plain = orjson.dumps({"t": resource_type, "p": params, "c": cursor})
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, plain, None)).decode().rstrip("=")

    def open(self, token: str, resource_type: str) -> tuple[Params, Cursor]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            state = orjson.loads(self._aead.decrypt(raw[:12], raw[12:], None))
        except (ValueError, InvalidTag, orjson.JSONDecodeError):
            raise bad_request("The paging link is not valid (it may come from another server)", "_page") from None
        if state.get("t") != resource_type:
            raise bad_request("The paging link belongs to another search", "_page")
        return [(k, v) for k, v in state["p"]], state["c"]
