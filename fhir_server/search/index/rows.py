"""The typed index rows of one resource, one kind a table (see ``fhir_server/storage/schema.py``).

``param`` is the SearchParameter code; a composite parameter's components are stored under ``<code>$<i>``
(component i) with the same ``grp`` for the values that come from one element, so a composite search can pair
them. ``grp`` is None for ordinary parameters. Strings are normalised at extraction (``value``) and kept as
written (``exact``); dates, numbers and quantities are ranges [low, high) at their precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple


class TokenRow(NamedTuple):
    param: str
    system: str | None
    code: str | None
    text: str | None = None  # normalised CodeableConcept.text / Coding.display, for :text
    type_system: str | None = None  # Identifier.type coding, for :of-type
    type_code: str | None = None
    grp: int | None = None


class StringRow(NamedTuple):
    param: str
    value: str  # normalised: case- and accent-insensitive
    exact: str  # as written
    grp: int | None = None


class ReferenceRow(NamedTuple):
    param: str
    target_type: str | None  # for literal references: Patient/123, or this server's absolute URLs
    target_id: str | None
    url: str | None = None  # absolute or canonical references (without |version)
    version: str | None = None  # canonical |version, or _history/<v>
    identifier_system: str | None = None  # Reference.identifier, for :identifier
    identifier_value: str | None = None
    grp: int | None = None


class DateRow(NamedTuple):
    param: str
    low: datetime  # naive UTC, inclusive; open start = DATE_MIN
    high: datetime  # exclusive; open end = DATE_MAX
    grp: int | None = None
    span: int = 0  # width class and role: set by ``date_spans.finish_dates`` when the rows are complete
    role: int = 0


class NumberRow(NamedTuple):
    param: str
    low: Decimal  # value ± half a unit of its last digit
    high: Decimal
    grp: int | None = None


class QuantityRow(NamedTuple):
    param: str
    system: str | None
    code: str | None
    unit: str | None
    low: Decimal
    high: Decimal
    grp: int | None = None


class UriRow(NamedTuple):
    param: str
    value: str
    grp: int | None = None


DATE_MIN = datetime(1, 1, 1)
DATE_MAX = datetime(9999, 12, 31, 23, 59, 59)


@dataclass(slots=True)
class IndexRows:
    tokens: list[TokenRow] = field(default_factory=list)
    strings: list[StringRow] = field(default_factory=list)
    references: list[ReferenceRow] = field(default_factory=list)
    dates: list[DateRow] = field(default_factory=list)
    numbers: list[NumberRow] = field(default_factory=list)
    quantities: list[QuantityRow] = field(default_factory=list)
    uris: list[UriRow] = field(default_factory=list)
