"""Search parameter value syntax: escaped OR lists, prefixes, tokens."""

from __future__ import annotations

from dataclasses import dataclass

from fhir_server.errors import bad_request

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def split_unescaped(value: str, separator: str) -> list[str]:
    """Split on ``separator`` unless escaped with a backslash; unescape ``\\,`` ``\\|`` ``\\$`` ``\\\\``."""
    if "\\" not in value:  # nothing escaped (nearly every value): a plain split, without the loop per character
        return value.split(separator)
    parts: list[str] = []
    current: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt in (",", "|", "$", "\\"):
                current.append("\\" + nxt if nxt != separator else nxt)
            else:
                current.append(ch + nxt)
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def escape(value: str) -> str:
    """A literal as a search value: the inverse of ``unescape``."""
    value = value.replace("\\", "\\\\")
    for ch in (",", "|", "$"):
        value = value.replace(ch, "\\" + ch)
    return value


def unescape(value: str) -> str:
    for ch in (",", "|", "$"):
        value = value.replace("\\" + ch, ch)
    return value.replace("\\\\", "\\")


def split_prefix(value: str) -> tuple[str, str]:
    if len(value) > 2 and value[:2] in PREFIXES and not value[2].isalpha():
        return value[:2], value[2:]
    return "eq", value


@dataclass(frozen=True)
class TokenValue:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code in the system


def parse_token(value: str, name: str) -> TokenValue:
    parts = split_unescaped(value, "|")
    if len(parts) == 1:
        code = unescape(parts[0])
        if not code:
            raise bad_request(f"Search parameter '{name}' needs a value")
        return TokenValue(None, code)
    if len(parts) == 2:
        system, code = unescape(parts[0]), unescape(parts[1])
        if not system and not code:
            raise bad_request(f"Search parameter '{name}' needs a system or a code")
        return TokenValue(system, code or None)
    raise bad_request(f"Search parameter '{name}' has more than one unescaped '|'")
