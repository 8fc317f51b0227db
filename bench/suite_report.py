"""The suite's one report per run: ``bench/results/<date>-suite-<backend>[-quick].json`` (everything) and ``.md`` (the
machine, then every figure beside its limit and target, a legend of the limits, then errors and warnings)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson

from bench.suite_options import SECTIONS

TITLES = {
    "ingest": "Ingest (Synthea transactions over HTTP)",
    "read": "Read by id",
    "create": "Create",
    "qr-write": "Validated QuestionnaireResponse write (NNRR pre-consultation form)",
    "validation": "Validation per resource (one core, in-process)",
    "search": "Searches",
    "flow": "Appointment → Task",
    "notifications": "Notifications",
    "indicators": "Indicator evaluation",
    "views": "Views",
    "portal": "Portal page load (headless Chromium)",
    "memory": "Serving-process memory",
}

LEGEND = [
    "**Ratio**: for a rate, the share of the limit reached (100 % = as fast as the limit); for a time, how many "
    "times the limit's time it takes (1.0 x = as fast). Every limit was measured in this run, on this machine.",
    "**Ingest**: the Synthea bundles as a bulk loader sends them to `ryggrad serve --workers N` (one API process "
    "per core, as deploy/ runs them, with the embedded worker): the hospital and practitioner batches, then the "
    "patient transactions N uploads at once. Limit: what the server stored for them — current rows, history rows "
    "and every search-index row — read back and written straight into a fresh database of the same backend and "
    "schema by N streams, one transaction per bundle, COPY on PostgreSQL (executemany on SQLite): the database's "
    "own cost of storing the same data. Earlier runs' limit (resource and history rows alone) is shown too.",
    "**Read**: a bare Starlette app under uvicorn with as many processes answering the same URLs with the same "
    "bytes and headers from memory. wrk, 1 thread, keep-alive connections, on loopback.",
    "**QuestionnaireResponse write**: a patient's completed NNRR pre-consultation form (the registry's own "
    "Questionnaire) POSTed (new resource each time) and PUT (a new version of one) to `ryggrad serve`, which "
    "validates it against the R4 rules, the registry profile and the Questionnaire and stores it: against the API "
    "process alone (`--no-worker`, the write path; production runs workers as processes of their own) and, for "
    "POST, against `ryggrad serve` as `make run` starts it, whose embedded worker scores each completed response "
    "on the same two cores. Limits: the bare "
    "Starlette app accepting the same POST/PUT — it reads the body, parses it with orjson and answers 201/200 with "
    "the same bytes (HTTP + parse; the honest floor of any JSON HTTP write); and `orjson.loads` of the same body "
    "in-process (the parse alone, no HTTP). The issue's target (p50 < 10 ms) is judged on one connection.",
    "**Validation**: the checks a write makes (R4 rules + registry profile + the Questionnaire), median per resource "
    "on one core, beside `orjson.loads` of the same bytes; R4 rules alone beside the fhir.resources R4B model parse.",
    "**Search**: each query of the set over HTTP (one keep-alive connection, values drawn from the data) beside "
    "the hand-written SQL for the same page on the same database; the target is set at 1M resources.",
    "**Appointment → Task**: appointments pushed as an EHR does (transactions of 20: conditional Patient create + "
    "Appointment PUT), paced at 200/s, by the bench in-process (`FhirServer.execute`, so the pushes share the two "
    "cores with the worker); p95 from the push's commit to its Task. The target counts as met only when the pushes "
    "reached 200/s (95 %). PostgreSQL runs the production set-up "
    "(Redis broker, one worker process with its scheduler); SQLite the embedded one (filesystem transport). Limit "
    "(Redis only): a message handed through the same Redis from one connection to another (RPUSH → BLPOP) at the "
    "same pace — the least any broker-borne step costs; it leaves out the worker, the search and the writes.",
    "**Notifications**: from an Appointment PUT's commit to the rest-hook request arriving at a receiver on "
    "loopback, one change every 50 ms. Limit: a bare HTTP POST from the bench to the same receiver at the same "
    "pace (the delivery's HTTP alone).",
    "**Indicators, views**: no limit is measured (no simpler system computes the same); sizes are the suite's "
    "(smaller than the standalone benches' defaults), so targets set at 100k episodes are shown for orientation.",
    "**Portal**: `/portal/` in headless Chromium, a fresh context per load (nothing cached), from navigation to "
    "the sign-in form's FNR field visible and enabled. Limit: the same browser loading the same built files (and "
    "the same config.json) from a bare static file server (`python -m http.server`).",
    "**Memory**: VmRSS of one `ryggrad serve --no-worker` process after a warm-up that ingests the quick Synthea "
    "set and validates a registry QuestionnaireResponse (every definition a write needs loaded), then after "
    "read and search load; peak = VmHWM. The target is absolute.",
]


def _value(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit == "share":
        return f"{v * 100:.1f} %"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.3f}"


def _unit(unit: str) -> str:
    return "" if unit == "share" else f" {unit}"


def _ratio(f: dict[str, Any]) -> str:
    r = f["ratio"]
    if r is None:
        return ""
    if f["ratio_kind"] == "share":
        return f"{r * 100:.1f} % of limit"
    return f"{r:,.1f} x limit" if r >= 1 else f"{r:.2f} x limit"


def _met(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def _machine_lines(r: dict[str, Any]) -> list[str]:
    m, s = r["machine"], r["settings"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    return [
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}",
        f"- Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql'] or 'not reachable'}",
        f"- Packages: {packages}; load generator: {m.get('load_generator')}",
        f"- Commit {m['commit']}; started {m['date']}; took {r['seconds']:.0f} s",
        f"- Settings: {s['duration_s']} s per throughput run, {s['connections']} connections, "
        f"{s.get('api_processes', 1)} API processes (ingest, read, create), search population "
        f"{s['size']:,} resources (seed {s['seed']}), {s['repetitions']} repetitions per query"
        f"{', reused database' if s['database_url'] else ''}",
        f"- Load average before the run (1, 5, 15 min): {', '.join(str(x) for x in s['load_average_before'])}",
        f"- Server settings from the environment: {s['server_settings_from_env'] or 'none (defaults)'}",
    ]


def _figure_rows(r: dict[str, Any]) -> list[str]:
    rows = ["| Section | Measure | Ryggrad | Limit | Ratio | Target | Met |", "|---|---|---:|---:|---:|---|---|"]
    for name in SECTIONS:
        section = r["sections"].get(name)
        if section is None:
            continue
        title = TITLES[name]
        if "error" in section:
            rows.append(f"| {title} | **failed**: {section['error'][:200]} | | | | | |")
            continue
        for f in section["figures"]:
            limit = "" if f["limit"] is None else f"{_value(f['limit'], f['unit'])} ({f['limit_name']})"
            measure = f["measure"].replace("|", "\\|")
            rows.append(
                f"| {title} | {measure} | {_value(f['value'], f['unit'])}{_unit(f['unit'])} | {limit} | {_ratio(f)} "
                f"| {f['target'] or ''} | {_met(f['met'])} |"
            )
    return rows


def targets_summary(r: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name in SECTIONS:
        for f in r["sections"].get(name, {}).get("figures", []):
            if f["met"] is not None:
                found.append({"section": name, "measure": f["measure"], "target": f["target"], "met": f["met"]})
    return found


def _section_lines(r: dict[str, Any]) -> list[str]:
    rows = ["| Section | Seconds | Load average after (1 min) |", "|---|---:|---:|"]
    for name in SECTIONS:
        section = r["sections"].get(name)
        if section and "seconds" in section:
            after = section.get("load_average_after") or ["n/a"]
            rows.append(f"| {name} | {section['seconds']:.0f} | {after[0]} |")
    return rows


def markdown(r: dict[str, Any]) -> str:
    backend = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(r["backend"], r["backend"])
    title = f"# Ryggrad benchmark suite: {backend}{' (quick)' if r['quick'] else ''}, {r['machine']['date'][:10]}"
    met = [t for t in r["targets"]]
    lines = [title, "", *_machine_lines(r), ""]
    lines += [
        f"Targets met: {sum(t['met'] for t in met)} of {len(met)}. Command: `{r['command']}`",
        "",
        *_figure_rows(r),
        "",
        "## Legend",
        "",
        *(f"- {item}" for item in LEGEND),
        "",
        "## Sections' time and the machine's load",
        "",
        "The machine is shared: a load average above 2 (two cores) means other work ran beside the bench.",
        "",
        *_section_lines(r),
        "",
    ]
    warnings = [w for s in r["sections"].values() for w in s.get("details", {}).get("warnings", [])]
    if warnings:
        lines += ["## Warnings", "", *(f"- {w}" for w in warnings), ""]
    failed = {k: s["error"] for k, s in r["sections"].items() if "error" in s}
    if failed:
        lines += ["## Failed sections", ""]
        lines += [f"- {k}: ```{v[:1500]}```" for k, v in failed.items()]
        lines.append("")
    return "\n".join(lines)


def write(r: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{date.today().isoformat()}-suite-{r['backend']}{'-quick' if r['quick'] else ''}"
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    json_path.write_bytes(orjson.dumps(r, option=orjson.OPT_INDENT_2, default=str) + b"\n")
    md_path.write_text(markdown(r))
    return json_path, md_path
