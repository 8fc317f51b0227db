"""The fixed set of typical registry searches, each beside the SQL one would write by hand against the same tables
for the same page (the lower bound).

Every query is a FHIR request (GET ``[type]?…``, or a form POST to ``[type]/_search`` when it carries an FNR) and
hand-written SQL over ``resource`` and the typed index tables (``search_token|string|reference|date|number|
quantity|uri``: rid, resource_type, param, values). The SQL finds the page's ``rid`` values (and sort key) in the
index tables first — ``count + 1`` of them, to know whether a next page exists — and only then reads those
resources (``rid, resource_type, id`` and ``content`` as JSON text), in the server's order (``rid`` unless
``_sort`` says otherwise; ties by ``rid``); plus the included resources and the total where asked for. That is
valid because index rows exist for live resources only, and several times faster than joining ``resource`` first.

Search semantics the SQL follows (FHIR R4): strings match case- and accent-insensitively from the start (the
index holds normalised values; the prefix as a range, exact in the C collation); ``date=D`` means the value's
range lies within D's; ``ge``/``lt`` with ranges: ``high > D.low`` / ``low < D.low``; a quantity ``ge V`` on whole
numbers: ``high > V - 0.5``; ``_sort=-date`` orders by the date, latest first (one date per resource here).
``{content}`` is replaced per dialect. Checked against answers computed from ``resource.content`` in Python.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.population import SPAN_START
from bench.search_draws import Sample
from fhir_server.norway.identifiers import FNR_SYSTEM

SELECT = "SELECT r.rid, r.resource_type, r.id, {content} AS content"
PAGE = 20


@dataclass(frozen=True)
class Sql:
    text: str
    params: dict[str, Any] = field(default_factory=dict)
    expanding: tuple[str, ...] = ()  # list parameters (IN :name)


@dataclass(frozen=True)
class Request:
    method: str  # GET, or POST (form-encoded to [type]/_search)
    path: str  # relative to /fhir
    params: list[tuple[str, str]]


@dataclass(frozen=True)
class Case:
    """One repetition: the request and its SQL."""

    request: Request
    page: Callable[[Any | None], Sql]  # the last row of the previous page (paging) or None → the page's SQL
    count: int = PAGE
    includes: Callable[[Sequence[Any]], Sql] | None = None  # the page's rows → the included resources
    total: Sql | None = None


@dataclass(frozen=True)
class QueryDef:
    key: str
    title: str
    shape: str  # the request with placeholders, for the report
    needs: tuple[tuple[str, str, str], ...]  # (index table, resource type, param) whose rows the query uses
    make: Callable[[Sample, int], Case]
    pages: int = 1
    exempt: bool = False  # from the 50 ms target (_total=accurate)


# -- helpers ---------------------------------------------------------------------------------------------------


def fold(value: str) -> str:
    """Case- and accent-insensitive form (as the string index stores it): ``Søreng`` → ``soreng``."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ð": "d", "ł": "l"}))


def _next_prefix(prefix: str) -> str:
    """The smallest string above every string starting with ``prefix`` (byte order; C collation)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _day_range(day: date) -> tuple[datetime, datetime]:
    low = datetime(day.year, day.month, day.day)
    return low, low + timedelta(days=1)


def _pick(values: Sequence[Any], i: int) -> Any:
    if not values:
        raise LookupError("no value of this kind in the data")
    return values[i % len(values)]


def _paged(inner: str, params: dict[str, Any], count: int = PAGE, *, sort: str | None = None) -> Sql:
    """The page's rids (and sort key) from the index tables first — ``inner`` selects ``rid`` [and ``sort_key``],
    ordered — then only those resources. Valid because index rows exist for live resources only."""
    extra = ", p.sort_key" if sort else ""
    order = f"p.sort_key {sort}, p.rid {sort}" if sort else "p.rid"  # ties in the key's direction
    return Sql(
        f"{SELECT}{extra} FROM ({inner} LIMIT {count + 1}) p JOIN resource r ON r.rid = p.rid "
        f"WHERE NOT r.deleted ORDER BY {order}",
        params,
    )


def _token(resource_type: str, param: str, code: str, system: str | None = None) -> str:
    system_clause = f" AND system = :{system}" if system else ""
    return (
        f"SELECT rid FROM search_token WHERE resource_type = '{resource_type}' AND param = '{param}' "
        f"AND code = :{code}{system_clause}"
    )


def _reference(resource_type: str, param: str, target_type: str, target_id: str) -> str:
    return (
        f"SELECT rid FROM search_reference WHERE resource_type = '{resource_type}' AND param = '{param}' "
        f"AND target_type = '{target_type}' AND target_id = :{target_id}"
    )


def _distinct(select: str) -> str:
    """``SELECT rid FROM …`` → the distinct rids in order (a resource may have several matching rows)."""
    return select.replace("SELECT rid", "SELECT DISTINCT rid", 1) + " ORDER BY rid"


def _iso(day: date) -> str:
    return day.isoformat()


# -- the queries -------------------------------------------------------------------------------------------------


def _q_read(s: Sample, i: int) -> Case:
    patient = _pick(s.patients, i).id
    sql = Sql(f"{SELECT} FROM resource r WHERE r.resource_type = 'Patient' AND r.id = :id", {"id": patient})
    return Case(Request("GET", f"Patient/{patient}", []), lambda _: sql)


def _q_identifier(s: Sample, i: int) -> Case:
    fnr = _pick(s.patients, i).fnr
    inner = _distinct(_token("Patient", "identifier", "v", "s"))
    request = Request("POST", "Patient", [("identifier", f"{FNR_SYSTEM}|{fnr}")])
    return Case(request, lambda _: _paged(inner, {"v": fnr, "s": FNR_SYSTEM}))


def _q_name(s: Sample, i: int) -> Case:
    family = _pick(s.patients, i).family
    asked = family.lower() if i % 2 == 0 else fold(family)  # "søreng" and "soreng" alike
    prefix = fold(asked)
    inner = _distinct(
        "SELECT rid FROM search_string WHERE resource_type = 'Patient' AND param = 'name' "
        "AND value >= :lo AND value < :hi"
    )
    params = {"lo": prefix, "hi": _next_prefix(prefix)}
    return Case(Request("GET", "Patient", [("name", asked)]), lambda _: _paged(inner, params))


def _q_booked_week(s: Sample, i: int) -> Case:
    day = _pick(s.booked_days, i)
    low, _ = _day_range(day)
    inner = _distinct(
        "SELECT rid FROM search_date WHERE resource_type = 'Appointment' AND param = 'date' "
        f"AND low >= :lo AND low < :hi AND rid IN ({_token('Appointment', 'status', 'status')})"
    )  # an appointment's date is one instant: its low lies in the week
    params = {"lo": low, "hi": low + timedelta(days=7), "status": "booked"}
    request = Request(
        "GET",
        "Appointment",
        [("date", f"ge{_iso(day)}"), ("date", f"lt{_iso(day + timedelta(days=7))}"), ("status", "booked"),
         ("_count", "50")],
    )  # fmt: skip
    return Case(request, lambda _: _paged(inner, params, count=50), count=50)


def _q_ready_tasks(s: Sample, i: int) -> Case:
    owner = _pick(s.ready_owners, i)
    inner = _distinct(
        f"{_reference('Task', 'owner', 'Organization', 'owner')} AND rid IN ({_token('Task', 'status', 'status')})"
    )
    request = Request("GET", "Task", [("status", "ready"), ("owner", f"Organization/{owner}")])
    return Case(request, lambda _: _paged(inner, {"status": "ready", "owner": owner}))


def _q_responses(s: Sample, i: int) -> Case:
    url, day = _pick(s.responses, i)
    start, end = day - timedelta(days=14), day + timedelta(days=14)
    inner = _distinct(
        "SELECT rid FROM search_reference WHERE resource_type = 'QuestionnaireResponse' "
        "AND param = 'questionnaire' AND url = :url "
        f"AND rid IN ({_token('QuestionnaireResponse', 'status', 'status')}) "
        "AND rid IN (SELECT rid FROM search_date WHERE resource_type = 'QuestionnaireResponse' "
        "AND param = 'authored' AND low >= :lo AND low < :hi)"
    )  # authored is one instant
    params = {"url": url, "status": "completed", "lo": _day_range(start)[0], "hi": _day_range(end)[0]}
    request = Request(
        "GET",
        "QuestionnaireResponse",
        [("questionnaire", url), ("status", "completed"), ("authored", f"ge{_iso(start)}"),
         ("authored", f"lt{_iso(end)}")],
    )  # fmt: skip
    return Case(request, lambda _: _paged(inner, params))


def _q_score_above(s: Sample, i: int) -> Case:
    system, code, value = _pick(s.scores, i)
    inner = _distinct(
        f"{_token('Observation', 'code', 'code', 'system')} "
        "AND rid IN (SELECT rid FROM search_quantity WHERE resource_type = 'Observation' "
        "AND param = 'value-quantity' AND high > :bound)"
    )
    params = {"code": code, "system": system, "bound": Decimal(value) - Decimal("0.5")}
    request = Request("GET", "Observation", [("code", f"{system}|{code}"), ("value-quantity", f"ge{value}")])
    return Case(request, lambda _: _paged(inner, params))


def _q_chain(s: Sample, i: int) -> Case:
    fnr = _pick(s.responders, i).fnr
    inner = _distinct(
        "SELECT rid FROM search_reference WHERE resource_type = 'QuestionnaireResponse' AND param = 'subject' "
        "AND target_type = 'Patient' AND target_id IN (SELECT p.id FROM resource p WHERE p.resource_type = 'Patient' "
        f"AND NOT p.deleted AND p.rid IN ({_token('Patient', 'identifier', 'v', 's')}))"
    )
    request = Request("POST", "QuestionnaireResponse", [("subject:Patient.identifier", f"{FNR_SYSTEM}|{fnr}")])
    return Case(request, lambda _: _paged(inner, {"v": fnr, "s": FNR_SYSTEM}))


def _q_has(s: Sample, i: int) -> Case:
    day = _pick(s.appointment_days, i)
    low, high = _day_range(day)
    inner = (  # the day's appointments → their patients' ids → those patients
        "SELECT DISTINCT p.rid FROM search_date d JOIN search_reference x ON x.rid = d.rid "
        "AND x.resource_type = 'Appointment' AND x.param = 'patient' AND x.target_type = 'Patient' "
        "JOIN resource p ON p.resource_type = 'Patient' AND p.id = x.target_id AND NOT p.deleted "
        "WHERE d.resource_type = 'Appointment' AND d.param = 'date' AND d.low >= :lo AND d.low < :hi "
        "AND d.high <= :hi ORDER BY p.rid"
    )
    request = Request("GET", "Patient", [("_has:Appointment:patient:date", _iso(day))])
    return Case(request, lambda _: _paged(inner, {"lo": low, "hi": high}))


def _include_patients(rows: Sequence[Any]) -> Sql:
    where = (
        "r.resource_type = 'Patient' AND r.id IN (SELECT target_id FROM search_reference WHERE rid IN :rids "
        "AND resource_type = 'Appointment' AND param = 'patient' AND target_type = 'Patient')"
    )
    return Sql(
        f"{SELECT} FROM resource r WHERE NOT r.deleted AND {where}", {"rids": [row.rid for row in rows]}, ("rids",)
    )


def _q_include(s: Sample, i: int) -> Case:
    day = _pick(s.appointment_days, i)
    low, high = _day_range(day)
    inner = _distinct(
        "SELECT rid FROM search_date WHERE resource_type = 'Appointment' AND param = 'date' "
        "AND low >= :lo AND high <= :hi"
    )
    request = Request("GET", "Appointment", [("date", _iso(day)), ("_include", "Appointment:patient")])
    return Case(request, lambda _: _paged(inner, {"lo": low, "hi": high}), includes=_include_patients)


def _revinclude_episodes_tasks(rows: Sequence[Any]) -> Sql:
    where = (
        "r.rid IN (SELECT rid FROM search_reference WHERE target_type = 'Patient' AND target_id IN :ids "
        "AND ((resource_type = 'EpisodeOfCare' AND param = 'patient') "
        "OR (resource_type = 'Task' AND param = 'patient')))"
    )
    return Sql(f"{SELECT} FROM resource r WHERE NOT r.deleted AND {where}", {"ids": [row.id for row in rows]}, ("ids",))


def _q_revinclude(s: Sample, i: int) -> Case:
    patient = _pick(s.episode_patients, i)
    request = Request(
        "GET", "Patient", [("_id", patient), ("_revinclude", "EpisodeOfCare:patient"), ("_revinclude", "Task:patient")]
    )
    page = Sql(
        f"{SELECT} FROM resource r WHERE r.resource_type = 'Patient' AND r.id = :id AND NOT r.deleted", {"id": patient}
    )
    return Case(request, lambda _: page, includes=_revinclude_episodes_tasks)


def _observations_by_date(condition: str) -> str:
    """Observations (rid IN ``condition``) by their date, latest first (one date per Observation here)."""
    return (
        "SELECT rid, high AS sort_key FROM search_date WHERE resource_type = 'Observation' AND param = 'date' "
        f"AND rid IN ({condition}) ORDER BY high DESC, rid DESC"
    )


def _q_latest_scores(s: Sample, i: int) -> Case:
    system, code, _ = _pick(s.scores, i)
    inner = _observations_by_date(_token("Observation", "code", "code", "system"))
    request = Request("GET", "Observation", [("code", f"{system}|{code}"), ("_sort", "-date")])
    return Case(request, lambda _: _paged(inner, {"code": code, "system": system}, sort="DESC"))


def _q_paging(s: Sample, i: int) -> Case:
    day = SPAN_START + timedelta(days=(i * 7) % 60)
    low, _ = _day_range(day)

    def page(after: Any | None) -> Sql:
        keyset = " AND (low, rid) > (:after_low, :after_rid)" if after is not None else ""
        inner = (
            "SELECT rid, low AS sort_key FROM search_date WHERE resource_type = 'Appointment' AND param = 'date' "
            f"AND high > :lo{keyset} ORDER BY low, rid"
        )
        params: dict[str, Any] = {"lo": low}
        if after is not None:
            params |= {"after_low": after.sort_key, "after_rid": after.rid}
        return _paged(inner, params, sort="ASC")

    return Case(Request("GET", "Appointment", [("date", f"ge{_iso(day)}"), ("_sort", "date")]), page)


def _q_total(s: Sample, i: int) -> Case:
    status = ("booked", "fulfilled", "cancelled")[i % 3]
    matching = _token("Appointment", "status", "status")
    total = Sql(f"SELECT count(DISTINCT rid) FROM ({matching}) t", {"status": status})
    request = Request("GET", "Appointment", [("status", status), ("_total", "accurate")])
    return Case(request, lambda _: _paged(_distinct(matching), {"status": status}), total=total)


def _q_compartment(s: Sample, i: int) -> Case:
    patient = _pick(s.responders, i).id
    inner = _distinct(
        "SELECT rid FROM search_reference WHERE resource_type = 'QuestionnaireResponse' "
        "AND param IN ('subject', 'author') AND target_type = 'Patient' AND target_id = :id"
    )
    return Case(
        Request("GET", f"Patient/{patient}/QuestionnaireResponse", []), lambda _: _paged(inner, {"id": patient})
    )


def _q_patient_scores(s: Sample, i: int) -> Case:
    patient = _pick(s.observed_patients, i)
    inner = _observations_by_date(_reference("Observation", "subject", "Patient", "id"))
    request = Request("GET", "Observation", [("subject", f"Patient/{patient}"), ("_sort", "-date")])
    return Case(request, lambda _: _paged(inner, {"id": patient}, sort="DESC"))


def _q_last_updated(s: Sample, i: int) -> Case:
    updated = _pick(s.appointment_updates, i)
    stamp = updated.isoformat(timespec="microseconds") + "Z"
    sql = Sql(
        f"{SELECT} FROM resource r WHERE r.resource_type = 'Appointment' AND NOT r.deleted AND r.last_updated >= :t "
        "ORDER BY r.last_updated, r.rid LIMIT 51",
        {"t": updated},
    )
    request = Request(
        "GET", "Appointment", [("_lastUpdated", f"ge{stamp}"), ("_sort", "_lastUpdated"), ("_count", "50")]
    )
    return Case(request, lambda _: sql, count=50)


_T, _S, _R, _D, _Q = "search_token", "search_string", "search_reference", "search_date", "search_quantity"

QUERIES: tuple[QueryDef, ...] = (
    QueryDef("read", "not a search: read by id, the fixed cost of a request", "GET Patient/<id>", (), _q_read),
    QueryDef("identifier", "token: Patient by FNR (POST _search)", "POST Patient/_search identifier=<fnr system>|<fnr>",
             ((_T, "Patient", "identifier"),), _q_identifier),
    QueryDef("name", "string: Patient by family name (æøå folded)", "GET Patient?name=søreng",
             ((_S, "Patient", "name"),), _q_name),
    QueryDef("booked-week", "date range + token + _count=50",
             "GET Appointment?date=ge<d>&date=lt<d+7>&status=booked&_count=50",
             ((_D, "Appointment", "date"), (_T, "Appointment", "status")), _q_booked_week),
    QueryDef("ready-tasks", "token + reference: a unit's ready PROM tasks",
             "GET Task?status=ready&owner=Organization/<unit>",
             ((_T, "Task", "status"), (_R, "Task", "owner")), _q_ready_tasks),
    QueryDef("responses", "canonical + token + date range",
             "GET QuestionnaireResponse?questionnaire=<url>&status=completed&authored=ge<d>&authored=lt<d+28>",
             ((_R, "QuestionnaireResponse", "questionnaire"), (_T, "QuestionnaireResponse", "status"),
              (_D, "QuestionnaireResponse", "authored")), _q_responses),
    QueryDef("score-above", "token + quantity", "GET Observation?code=<system>|<code>&value-quantity=ge<v>",
             ((_T, "Observation", "code"), (_Q, "Observation", "value-quantity")), _q_score_above),
    QueryDef("chain", "chained: responses by the patient's FNR (POST _search)",
             "POST QuestionnaireResponse/_search subject:Patient.identifier=<fnr system>|<fnr>",
             ((_R, "QuestionnaireResponse", "subject"), (_T, "Patient", "identifier")), _q_chain),
    QueryDef("has", "_has: patients with an appointment that day", "GET Patient?_has:Appointment:patient:date=<d>",
             ((_R, "Appointment", "patient"), (_D, "Appointment", "date")), _q_has),
    QueryDef("include", "_include: a day's appointments with their patients",
             "GET Appointment?date=<d>&_include=Appointment:patient",
             ((_D, "Appointment", "date"), (_R, "Appointment", "patient")), _q_include),
    QueryDef("revinclude", "_revinclude: a patient with episodes and tasks",
             "GET Patient?_id=<id>&_revinclude=EpisodeOfCare:patient&_revinclude=Task:patient",
             ((_R, "EpisodeOfCare", "patient"), (_R, "Task", "patient")), _q_revinclude),
    QueryDef("latest-scores", "_sort=-date over one score code", "GET Observation?code=<system>|<code>&_sort=-date",
             ((_T, "Observation", "code"), (_D, "Observation", "date")), _q_latest_scores),
    QueryDef("paging", "paging to page 50 (next links), _sort=date", "GET Appointment?date=ge<d>&_sort=date, 50 pages",
             ((_D, "Appointment", "date"),), _q_paging, pages=50),
    QueryDef("total", "_total=accurate", "GET Appointment?status=<s>&_total=accurate",
             ((_T, "Appointment", "status"),), _q_total, exempt=True),
    QueryDef("compartment", "compartment: a patient's responses", "GET Patient/<id>/QuestionnaireResponse",
             ((_R, "QuestionnaireResponse", "subject"),), _q_compartment),
    QueryDef("patient-scores", "reference + _sort=-date: a patient's scores",
             "GET Observation?subject=Patient/<id>&_sort=-date",
             ((_R, "Observation", "subject"), (_D, "Observation", "date")), _q_patient_scores),
    QueryDef("last-updated", "_lastUpdated + _sort=_lastUpdated + _count=50",
             "GET Appointment?_lastUpdated=ge<t>&_sort=_lastUpdated&_count=50", (), _q_last_updated),
)  # fmt: skip
