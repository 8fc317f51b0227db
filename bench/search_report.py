"""The search benchmark's report: JSON (everything) and Markdown (the table), written to
``bench/results/<date>-search-<size>-<backend>[-load].json|.md``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson

from bench import RESULTS_DIR
from bench.report import BACKEND_NAMES
from bench.search_stats import TARGET_P95_MS, TARGET_RATIO


def _ms(figures: dict[str, Any] | None, key: str) -> str:
    return "—" if not figures else f"{figures[key]:.1f}" if figures[key] >= 10 else f"{figures[key]:.2f}"


def _yes(ok: bool, applicable: bool = True) -> str:
    return "n/a" if not applicable else "yes" if ok else "**no**"


def _machine_lines(r: dict[str, Any]) -> list[str]:
    m, s = r["machine"], r["settings"]
    overrides = ", ".join(f"{k}={v}" for k, v in s.get("server_settings_from_env", {}).items())
    return [
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}",
        f"- Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql'] or 'not reachable'}; "
        f"commit {m['commit']}; {m['date']}",
        f"- Load average before the run (1, 5, 15 min): {', '.join(str(x) for x in s['load_average_before'])}; "
        f"`ryggrad serve` started at commit {s.get('server_commit', m['commit'])}",
        f"- Server settings from the environment: {overrides or 'none (defaults)'}",
        *_postgres_lines(s),
    ]


def _postgres_lines(s: dict[str, Any]) -> list[str]:
    pg = s.get("postgresql")
    if not pg:
        return []
    configured = ", ".join(f"{k}={v}" for k, v in pg.items())
    warm = s.get("prewarmed")
    cache = (
        f"prewarmed before the queries ({warm['mib']:,} MiB read into shared buffers in {warm['seconds']} s)"
        if warm
        else "not prewarmed (a cold start: first reads go to disk)"
    )
    return [f"- PostgreSQL: {configured}; buffer cache {cache}"]


def _load_lines(r: dict[str, Any]) -> list[str]:
    load = r["load"]
    if load is None:
        return [f"- Population: loaded before into an existing database (seed {r['seed']}); no load figures"]
    tenths = " → ".join(f"{x:,.0f}" for x in load.get("resources_per_s_by_tenth", []))
    types = ", ".join(f"{k} {v:,}" for k, v in load["types"].items())
    size = f"{load['database_bytes'] / 1024**2:,.0f} MiB" if load.get("database_bytes") else "unknown"
    return [
        f"- Population: {load['resources']:,} resources (seed {r['seed']}) in {load['bundles']:,} transaction "
        f"Bundles: {types}",
        f"- Load in-process through `FhirServer.execute`: **{load['resources_per_s']:,.0f} resources/s** "
        f"({load['execute_s']:,.1f} s; with generation {load['resources_per_s_with_generation']:,.0f}/s); "
        f"VACUUM/ANALYZE {load['analyze_s']:.1f} s; database {size}",
        f"- Load rate by tenth of the load, resources/s: {tenths}",
    ]


def _query_rows(queries: list[dict[str, Any]]) -> list[str]:
    rows = [
        f"| Query | Request | Status | p50 ms | p95 ms | Server SQL p50 ms | Hand SQL p50 ms | Ratio (p50) "
        f"| p95 < {TARGET_P95_MS:g} ms | ≤ {TARGET_RATIO:g}x SQL |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for q in queries:
        ok = q["status"] in ("ok", "mismatch")
        ratio = f"{q['ratio_p50']:.1f}x" if q["ratio_p50"] is not None else "—"
        p95_target = "exempt" if q["exempt"] else _yes(q["meets_p95"], ok)
        status = q["status"] if q["status"] == "ok" else f"**{q['status']}**"
        request = q["request"].replace("|", "\\|")  # a pipe would end the table cell
        rows.append(
            f"| {q['key']}: {q['title']} | `{request}` | {status} | {_ms(q['http'], 'p50_ms')} "
            f"| {_ms(q['http'], 'p95_ms')} | {_ms(q.get('server_sql'), 'p50_ms')} | {_ms(q['sql'], 'p50_ms')} "
            f"| {ratio} | {p95_target} "
            f"| {_yes(q['meets_ratio'], ok)} |"
        )
    return rows


def _notes(queries: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for q in queries:
        if q["reason"]:
            lines.append(f"- **{q['key']}** ({q['status']}): {q['reason']}")
        if q.get("paging"):
            p = q["paging"]
            lines.append(
                f"- **{q['key']}**: {p['walks']} walks of {p['pages_per_walk']} pages; a whole walk p50 "
                f"{p['walk']['p50_ms']:,.0f} ms"
            )
        if q["empty_repetitions"] and q["status"] == "ok":
            lines.append(f"- **{q['key']}**: {q['empty_repetitions']} repetitions found nothing (expected matches)")
    return lines


def _profile_lines(queries: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for q in queries:
        p = q.get("profile")
        if not p:
            continue
        lines += [f"### {q['key']}: `{q['request']}`", ""]
        if "error" in p:
            lines += [f"Profile failed: {p['error']}", ""]
            continue
        lines.append(
            f"In-process ({p['requests']} request(s)): {p['in_process_ms']:.1f} ms, of which SQL {p['sql_ms']:.1f} ms "
            f"in {p['statements']} statements and Python {p['python_ms']:.1f} ms; over HTTP p50 "
            f"{q['http']['p50_ms']:.1f} ms per request; hand-written SQL p50 {q['sql']['p50_ms']:.2f} ms."
        )
        for s in p["slowest"]:
            lines += ["", f"Slowest statement, {s['ms']:.1f} ms:", "", "```sql", s["sql"], "```", "", "```"]
            lines += [*s["plan"], "```"]
        if p.get("hand_written_plan"):
            lines += ["", "The hand-written SQL's plan (same values):", "", "```", *p["hand_written_plan"], "```"]
        lines.append("")
    return lines


def _sql_lines(queries: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for q in queries:
        if q.get("sql_template"):
            lines += [f"**{q['key']}** `{q['request']}`", "", "```sql", q["sql_template"], "```", ""]
    return lines


def markdown(r: dict[str, Any]) -> str:
    name = BACKEND_NAMES.get(r["backend"], r["backend"])
    title = f"# Ryggrad search benchmark: {r['size_label']} resources, {name}, {r['machine']['date'][:10]}"
    lines = [title, "", *_machine_lines(r), *_load_lines(r), ""]
    queries = r.get("queries")
    if not queries:
        return "\n".join([*lines, "Load only: no queries were run.", ""])
    s = r["settings"]
    lines += [
        f"Each query: {s['repetitions']} repetitions (after {s['warm_up']} warm-up) with values drawn from the data, "
        "one keep-alive connection (Python `http.client`, on the same machine), `Prefer: handling=strict`. "
        "SQL = the hand-written SQL for the same page on the same database (plain connection; the page's rids from "
        "the index tables, then the rows, content as JSON text, fetched). Server SQL = the statements the server "
        "runs for the same request, timed in-process (per page). Ratio = server SQL p50 / hand SQL p50: the search "
        "engine's SQL against the hand-written lower bound; HTTP p50 and p95 add parsing, JSON and the network. "
        "Status: ok = same ids (matches in order, includes, totals, next links) over HTTP and by SQL in every "
        "repetition; not yet supported = the server answers 400 for a parameter or the load wrote no index rows "
        "for it. The `read` row is no search: it shows the fixed cost of one request.",
        "",
        *_query_rows(queries),
        "",
    ]
    notes = _notes(queries)
    if notes:
        lines += ["## Notes", "", *notes, ""]
    profiles = _profile_lines(queries)
    if profiles:
        lines += ["## Where the time goes (in-process profile of the slow ones)", "", *profiles]
    lines += ["## The hand-written SQL (first repetition)", "", *_sql_lines(queries)]
    return "\n".join(lines)


def write(r: dict[str, Any], folder: Path = RESULTS_DIR, tag: str | None = None) -> tuple[Path, Path]:
    """The report as JSON and Markdown in ``folder``; ``tag`` names the run in the file names (e.g. the database
    configuration), so runs of one day on different set-ups are kept side by side."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ("" if r.get("queries") else "-load") + (f"-{tag}" if tag else "")
    stem = f"{date.today().isoformat()}-search-{r['size_label']}-{r['backend']}{suffix}"
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    json_path.write_bytes(orjson.dumps(r, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
    md_path.write_text(markdown(r))
    return json_path, md_path
