"""The OPR annual tables (registry rules, "OPR report tables"), computed from the registry's views for one calendar
year: T10 referrals assessed and rejected; T11 accepted and rejected referrals by level (shares over local, regional
and national only; "other"/blank added to the total); T12 baseline forms received over referrals given the right to
treatment; T13 patients answering the baseline over new patients; T14 the time to complete the baseline (min,
quartiles, max in ms and as H:MM:SS, truncated); T15 short baselines by reason (P6); and the follow-up response
rates (answered over due, per follow-up, forms excluded by P4 left out).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from fhir_server.views.materialize import refresh_named

LEVELS = ("local", "regional", "national")
VIEWS = ("registry_referral", "registry_form_task", "registry_episode", "opr_short_baseline")
OPR_BASELINE = "https://ryggrad.no/fhir/Questionnaire/opr-baseline"
OPR_FOLLOW_UP = "https://ryggrad.no/fhir/Questionnaire/opr-follow-up"


@dataclass
class ByLevel:
    counts: dict[str, int]  # local, regional, national
    other: int  # "other" and blank

    @property
    def base(self) -> int:
        return sum(self.counts.values())

    @property
    def total(self) -> int:
        return self.base + self.other

    def share(self, level: str) -> float | None:
        return self.counts[level] / self.base if self.base else None


@dataclass
class Durations:
    milliseconds: list[int]  # min, Q1, median, Q3, max

    @property
    def clock(self) -> list[str]:
        return [clock_time(ms) for ms in self.milliseconds]


@dataclass
class OprTables:
    year: int
    assessed: int  # T10
    rejected: int
    accepted_by_level: ByLevel  # T11
    rejected_by_level: ByLevel
    baselines_received: int  # T12
    given_right: int
    baseline_patients: int  # T13
    new_patients: int
    durations: Durations | None  # T14
    short_reasons: dict[str, int]  # T15
    follow_up: dict[str, tuple[int, int]] = field(default_factory=dict)  # action: (answered, due)

    @property
    def rejected_share(self) -> float | None:
        return self.rejected / self.assessed if self.assessed else None


def clock_time(milliseconds: int) -> str:
    """``16085636`` → ``04:28:05`` (hours, minutes, seconds; the rest truncated, not rounded)."""
    seconds = milliseconds // 1000
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _in_year(value: Any, year: int) -> bool:
    return isinstance(value, str) and value[:4] == str(year)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _rows(conn: Any, view: str) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(text(f"SELECT * FROM view_{view}"))]


def _by_level(referrals: list[dict[str, Any]]) -> ByLevel:
    counts = Counter(r["level"] for r in referrals)
    return ByLevel(
        {level: counts.get(level, 0) for level in LEVELS}, sum(n for k, n in counts.items() if k not in LEVELS)
    )


def opr_tables(server: Any, year: int, unit: str | None = None) -> OprTables:
    """The tables for ``year``, for one unit (``Organization/[id]``) or every OPR clinic."""
    refresh_named(server, VIEWS)
    with server.db.reading() as conn:
        referrals, tasks, episodes, shorts = (_rows(conn, name) for name in VIEWS)
    opr_episodes = {e["episode"]: e for e in episodes if e["registry"] == "opr" and (unit is None or e["unit"] == unit)}
    referrals = [r for r in referrals if unit is None or r["unit"] == unit]
    decided = [r for r in referrals if r["decision"] in ("accepted", "rejected") and _in_year(r["decision_date"], year)]
    accepted = [r for r in decided if r["decision"] == "accepted"]
    rejected = [r for r in decided if r["decision"] == "rejected"]
    opr_tasks = [t for t in tasks if t["episode"] in opr_episodes]
    baselines = [
        t
        for t in opr_tasks
        if (t["form"] or "").startswith(OPR_BASELINE) and t["status"] == "completed" and _in_year(t["submitted"], year)
    ]
    timed = sorted(
        int((_instant(t["submitted"]) - _instant(t["started"])).total_seconds() * 1000)
        for t in baselines
        if t["started"] and t["submitted"]
    )
    durations = None
    if timed:
        q1, median, q3 = statistics.quantiles(timed, n=4, method="inclusive") if len(timed) > 1 else (timed[0],) * 3
        durations = Durations([timed[0], int(q1), int(median), int(q3), timed[-1]])
    patients = {e["patient"] for e in opr_episodes.values()}
    shorts_this_year = [
        s for s in shorts if s["status"] == "completed" and _in_year(s["authored"], year) and s["patient"] in patients
    ]
    follow_up: dict[str, tuple[int, int]] = {}
    for task in opr_tasks:
        if not (task["form"] or "").startswith(OPR_FOLLOW_UP) or not _in_year(task["due"], year) or task["excluded"]:
            continue
        answered, due = follow_up.get(task["action"] or "follow-up", (0, 0))
        follow_up[task["action"] or "follow-up"] = (answered + (task["status"] == "completed"), due + 1)
    return OprTables(
        year=year,
        assessed=len(decided),
        rejected=len(rejected),
        accepted_by_level=_by_level(accepted),
        rejected_by_level=_by_level(rejected),
        baselines_received=len(baselines),
        given_right=len(accepted),
        baseline_patients=len({opr_episodes[t["episode"]]["patient"] for t in baselines}),
        new_patients=len({e["patient"] for e in opr_episodes.values() if _in_year(e["visit_date"], year)}),
        durations=durations,
        short_reasons=dict(Counter(s["reason"] or "other" for s in shorts_this_year)),
        follow_up=dict(sorted(follow_up.items())),
    )
