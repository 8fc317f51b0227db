"""How a patient is told of a new form: each channel sends one ready Task, or says why it cannot.

``Transient`` failures (the other side is down, slow or busy) are retried by the delivery machinery; ``Permanent``
ones (this patient cannot be reached this way) are recorded and not retried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class Transient(Exception):
    """Try again later."""


class Permanent(Exception):
    """This Task cannot go out this way; trying again will not help."""


@dataclass(frozen=True)
class Dispatch:
    task: dict[str, Any]
    patient: dict[str, Any] | None
    questionnaire: dict[str, Any] | None
    kind: str = "form"  # form | reminder (P1)


class Channel(Protocol):
    name: str
    medium: str  # a v3 ParticipationMode code for Communication.medium

    def applies(self, dispatch: Dispatch) -> bool: ...

    def send(self, dispatch: Dispatch) -> None: ...
