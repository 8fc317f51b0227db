"""One suite run on one backend: the chosen sections in order, each timed; a failing section is recorded with its
error (and the run goes on); everything a section starts or creates is removed by the section itself."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from typing import Any

from bench.servers import server_overrides
from bench.suite_options import CORE, SuiteOptions


def _say(message: str) -> None:
    print(message, flush=True)


def _runners(opts: SuiteOptions, machine: dict[str, Any]) -> dict[str, Callable[[], dict[str, Any]]]:
    from bench import suite_sections as s
    from bench.portal_load import run_portal
    from bench.qr_write import run_qr_write
    from bench.serve_memory import run_memory

    return {
        "qr-write": lambda: run_qr_write(opts),
        "validation": lambda: s.run_validation(opts),
        "search": lambda: s.run_search_section(opts, machine),
        "flow": lambda: s.run_flow(opts),
        "notifications": lambda: s.run_notifications(opts),
        "indicators": lambda: s.run_indicators(opts),
        "views": lambda: s.run_views(opts),
        "portal": lambda: run_portal(opts),
        "memory": lambda: run_memory(opts),
    }


def _failure(exc: BaseException) -> dict[str, Any]:
    return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-4000:]}


def run_suite(opts: SuiteOptions, machine: dict[str, Any], command: str) -> dict[str, Any]:
    started = time.perf_counter()
    sections: dict[str, dict[str, Any]] = {}
    result: dict[str, Any] = {
        "backend": opts.backend,
        "quick": opts.quick,
        "command": command,
        "machine": machine,
        "settings": {
            "sections": list(opts.sections),
            "duration_s": opts.duration_s,
            "connections": opts.connections,
            "api_processes": opts.api_processes,
            "size": opts.size,
            "seed": opts.seed,
            "repetitions": opts.repetitions,
            "database_url": bool(opts.database_url),
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
            "server_settings_from_env": server_overrides(),
        },
        "sections": sections,
    }
    if any(opts.wants(name) for name in CORE):
        began = time.perf_counter()
        try:
            from bench.suite_sections import run_core

            core = run_core(opts, machine)
            for name in CORE:
                if opts.wants(name):
                    sections[name] = {**core[name], "seconds": round(time.perf_counter() - began, 1)}
                    sections[name]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        except Exception as exc:
            _say(f"ingest/read/create failed: {exc}")
            for name in CORE:
                if opts.wants(name):
                    sections[name] = _failure(exc)
    runners = _runners(opts, machine)
    for name in opts.sections:
        if name in CORE:
            continue
        began = time.perf_counter()
        try:
            sections[name] = {**runners[name](), "seconds": round(time.perf_counter() - began, 1)}
            sections[name]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        except Exception as exc:
            _say(f"{name} failed: {exc}")
            sections[name] = _failure(exc)
        _say(f"  ({name}: {time.perf_counter() - began:.0f} s)")
    result["seconds"] = round(time.perf_counter() - started, 1)
    from bench.suite_report import targets_summary

    result["targets"] = targets_summary(result)
    return result
