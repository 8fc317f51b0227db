"""The report of one backend's run: JSON (everything) and a Markdown table (the figures beside their limits and
targets), written to ``bench/results/<date>-<backend>[-quick].json|.md``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from bench import RESULTS_DIR, TARGET_INGEST_PER_S, TARGET_READ_P50_MS

BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def ratio(value: float, limit: float) -> float | None:
    return round(value / limit, 4) if limit else None


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} % of limit"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} x limit"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def targets(result: dict[str, Any]) -> dict[str, Any]:
    ingest = result["ingest"]["http"]["resources_per_s"]
    p50 = result["read"]["ryggrad"]["p50_ms"]
    return {
        "ingest_resources_per_s": {"target": f">= {TARGET_INGEST_PER_S:g}", "met": ingest >= TARGET_INGEST_PER_S},
        "read_p50_ms": {"target": f"< {TARGET_READ_P50_MS:g}", "met": p50 < TARGET_READ_P50_MS},
    }


def _machine_lines(m: dict[str, Any], s: dict[str, Any]) -> list[str]:
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    overrides = ", ".join(f"{k}={v}" for k, v in s.get("server_settings_from_env", {}).items())
    return [
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}",
        f"- Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql'] or 'not reachable'}",
        f"- Packages: {packages}",
        f"- Load: {m['load_generator']}, 1 client thread, {s['connections']} keep-alive connections, "
        f"{s['duration_s']} s per run, client on the same machine; commit {m['commit']}; {m['date']}",
        f"- Load average before the run (1, 5, 15 min): {', '.join(str(x) for x in s['load_average_before'])}",
        f"- Server settings from the environment: {overrides or 'none (defaults)'}",
    ]


def _figure_rows(r: dict[str, Any]) -> list[str]:
    ing, rd, cr, t = r["ingest"], r["read"], r["create"]["ryggrad"], r["targets"]
    http, direct = ing["http"], ing["direct"]
    ry, bare, ry1, bare1 = rd["ryggrad"], rd["bare"], rd["ryggrad_1conn"], rd["bare_1conn"]
    ingest_met = _met(t["ingest_resources_per_s"]["met"])
    read_met = _met(t["read_p50_ms"]["met"])
    c = ry["connections"]
    return [
        "| Measure | Ryggrad | Limit | Ratio | Target | Met |",
        "|---|---:|---:|---:|---|---|",
        f"| Transaction ingest over HTTP, resources/s ({http['resources']:,} resources, "
        f"{len(http['bundles'])} bundles) | {_n(http['resources_per_s'])} | {_n(direct['resources_per_s'])} "
        f"(direct SQLAlchemy insert) | {_share(ing['ratio'])} | ≥ {TARGET_INGEST_PER_S:,.0f} | {ingest_met} |",
        f"| … patient transactions only, resources/s | {_n(http['transaction_resources_per_s'])} | | | | |",
        f"| … hospital/practitioner batches (conditional creates), resources/s "
        f"| {_n(http['batch_resources_per_s'])} | | | | |",
        f"| … patient transactions again, warm server (2nd pass), resources/s "
        f"| {_n(ing['http_warm_transactions']['resources_per_s'])} | | | | |",
        f"| … patient transactions, {ing['http_concurrent_transactions']['uploads']} uploads at once, resources/s "
        f"| {_n(ing['http_concurrent_transactions']['resources_per_s'])} | | | | |",
        f"| Read by id, requests/s ({c} conn.) | {_n(ry['requests_per_s'])} | {_n(bare['requests_per_s'])} "
        f"(bare Starlette) | {_share(rd['ratio_rps'])} | | |",
        f"| Read by id, p50 ms ({c} conn.) | {ry['p50_ms']:.2f} | {bare['p50_ms']:.2f} | {_times(rd['ratio_p50'])} "
        f"| < {TARGET_READ_P50_MS:g} ms | {read_met} |",
        f"| Read by id, p99 ms ({c} conn.) | {ry['p99_ms']:.2f} | {bare['p99_ms']:.2f} | {_times(rd['ratio_p99'])} "
        "| | |",
        f"| Read by id, p50 / p99 ms (1 conn.) | {ry1['p50_ms']:.2f} / {ry1['p99_ms']:.2f} "
        f"| {bare1['p50_ms']:.2f} / {bare1['p99_ms']:.2f} | {_times(ratio(ry1['p50_ms'], bare1['p50_ms']))} (p50) "
        "| | |",
        f"| Read by id, requests/s (1 conn.) | {_n(ry1['requests_per_s'])} | {_n(bare1['requests_per_s'])} "
        f"| {_share(ratio(ry1['requests_per_s'], bare1['requests_per_s']))} | | |",
        f"| Create (POST /fhir/Patient), requests/s ({cr['connections']} conn.) | {_n(cr['requests_per_s'])} | | | | |",
        f"| Create, p50 / p99 ms | {cr['p50_ms']:.2f} / {cr['p99_ms']:.2f} | | | | |",
    ]


def _bundle_rows(http: dict[str, Any]) -> list[str]:
    rows = ["| Bundle | Type | Resources | Seconds | Resources/s | Failed |", "|---|---|---:|---:|---:|---:|"]
    for b in http["bundles"]:
        rows.append(
            f"| {b['name']} | {b['kind']} | {b['resources']} | {b['seconds']:.3f} | {_n(b['resources_per_s'])} "
            f"| {b['failed']} |"
        )
    return rows


def markdown(r: dict[str, Any]) -> str:
    name = BACKEND_NAMES.get(r["backend"], r["backend"])
    lines = [f"# Ryggrad benchmark: {name}{' (quick)' if r['quick'] else ''}, {r['machine']['date'][:10]}", ""]
    lines += [*_machine_lines(r["machine"], r["settings"]), "", *_figure_rows(r), ""]
    lines += [
        "Ratio: throughput as a share of its limit; latency as a multiple of the limit's. Limits: ingest = the same "
        "resources inserted with SQLAlchemy Core into the same tables of a fresh database (one transaction per "
        "bundle; no HTTP, validation, reference resolution or token index); reads = a bare Starlette app under "
        "uvicorn returning the same bytes and headers for the same URLs from memory.",
        "",
    ]
    if r["warnings"]:
        lines += ["Warnings:", *(f"- {w}" for w in r["warnings"]), ""]
    lines += ["## Ingest per bundle", "", *_bundle_rows(r["ingest"]["http"]), ""]
    return "\n".join(lines)


def write(r: dict[str, Any], folder: Path = RESULTS_DIR) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{date.today().isoformat()}-{r['backend']}{'-quick' if r['quick'] else ''}"
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    json_path.write_bytes(orjson.dumps(r, option=orjson.OPT_INDENT_2) + b"\n")
    md_path.write_text(markdown(r))
    return json_path, md_path


def record(name: str, text: str, payload: dict[str, Any], folder: Path = RESULTS_DIR) -> tuple[Path, Path]:
    """A bench's dated result files in ``folder``: ``<date>-<name>.md`` (the readable report) and ``.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{date.today().isoformat()}-{name}"
    md_path, json_path = folder / f"{stem}.md", folder / f"{stem}.json"
    md_path.write_text(text)
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return md_path, json_path
