"""The registry rules' Decision values as the settings give them (registry rules, section 1): the time zone forms
are scheduled in, the send hour, the move threshold of N10/N11 and how long a sent form stays open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from fhir_server.settings import Settings


@dataclass(frozen=True)
class Rules:
    zone: ZoneInfo
    send_hour: int
    move_threshold_days: int
    expiry: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(
            ZoneInfo(settings.registry_timezone),
            settings.registry_send_hour,
            settings.registry_move_threshold_days,
            timedelta(days=settings.registry_task_expiry_days),
        )
