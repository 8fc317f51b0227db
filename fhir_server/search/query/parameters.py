"""Search parameter names and values: ``name[:modifier][.chain…]``, ``_has:Type:ref:…``, OR lists, prefixes.

Names parse into a small tree (``ParamName``): a chain (``subject:Patient.name``) hangs the next name off
``chain``; a reverse chain (``_has:Observation:patient:code``) puts the source type, its reference parameter and
the inner name in ``has``. Values keep their escapes until the type-specific parser has split them (``,`` for OR
here, ``$`` for composites, ``|`` for tokens and quantities), then ``unescape`` them.
"""

from __future__ import annotations

from dataclasses import dataclass

from fhir_server.errors import bad_request
from fhir_server.search.values import split_prefix, split_unescaped, unescape

__all__ = [
    "HasLink",
    "ParamName",
    "parse_missing",
    "parse_name",
    "split_or",
    "split_prefix",
    "split_unescaped",
    "unescape",
]

PREFIXED_TYPES = frozenset({"date", "number", "quantity"})


@dataclass(frozen=True, slots=True)
class HasLink:
    """``_has:<source_type>:<reference>:<inner>``: resources that ``source_type`` resources point at."""

    source_type: str
    reference: str
    inner: ParamName


@dataclass(frozen=True, slots=True)
class ParamName:
    raw: str  # as written, for messages
    code: str
    modifier: str | None = None
    chain: ParamName | None = None
    has: HasLink | None = None


def parse_name(name: str) -> ParamName:
    """Parse a parameter name; malformed names (empty parts, a bare ``_has``) are a 400."""
    if name.startswith("_has:") or name == "_has":
        parts = name.split(":", 3)
        if len(parts) != 4 or not all(parts[1:]):
            raise bad_request(
                f"'{name}': reverse chaining takes _has:<Type>:<reference parameter>:<search parameter>", name
            )
        return ParamName(name, "_has", has=HasLink(parts[1], parts[2], parse_name(parts[3])))
    head, dot, tail = name.partition(".")
    code, colon, modifier = head.partition(":")
    if not code or (colon and not modifier) or (dot and not tail):
        raise bad_request(f"'{name}' is not a valid search parameter name", name)
    return ParamName(name, code, modifier or None, parse_name(tail) if dot else None)


def split_or(value: str) -> list[str]:
    """The comma-separated alternatives of a value (escapes other than ``\\,`` kept); empty ones dropped."""
    return [part for part in split_unescaped(value, ",") if part != ""]


def parse_missing(value: str, name: str) -> bool:
    if value == "true":
        return True
    if value == "false":
        return False
    raise bad_request(f"'{name}': :missing takes true or false", name)
