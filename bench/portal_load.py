"""The patient portal's page load in headless Chromium (Playwright, Debian's ``/usr/bin/chromium``): ``/portal/``
served by ``ryggrad serve`` (development sign-in), timed from navigation until the sign-in form's FNR field is
visible and enabled (the first form a patient can type in), each load in a fresh browser context (nothing cached,
as a first visit). The limit, in the same run and the same browser: the same built files (and the same
``config.json`` answer) served by a bare static file server (``python -m http.server``)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import LOOPBACK, REPO_ROOT
from bench.databases import temp_database
from bench.figures import Figure
from bench.notifications import percentile
from bench.servers import free_port, ryggrad_server, stop_process
from bench.suite_options import SuiteOptions

DIST = REPO_ROOT / "portal" / "dist"
FIELD = "Fødselsnummer (11 siffer)"
LOAD_TIMEOUT_MS = 30_000


def _say(message: str) -> None:
    print(message, flush=True)


def ensure_build() -> None:
    """``portal/dist`` built and fresh (the portal tests' build step: Vite, once, under a lock)."""
    from tests.portal.support import build_portal

    reason = build_portal()
    if reason:
        raise RuntimeError(reason)


def time_loads(browser: Any, url: str, loads: int) -> list[float]:
    """Milliseconds from navigation to the FNR field visible and enabled, one fresh context per load."""
    times = []
    for _ in range(loads + 1):  # the first load warms the browser process itself, and is dropped
        context = browser.new_context(locale="nb-NO", timezone_id="Europe/Oslo")
        try:
            page = context.new_page()
            started = time.perf_counter()
            page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_MS)
            field = page.get_by_label(FIELD)
            field.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
            if not field.is_enabled():
                page.wait_for_function(
                    "label => [...document.querySelectorAll('input')].some(i => !i.disabled)", arg=FIELD
                )
            times.append((time.perf_counter() - started) * 1000)
        finally:
            context.close()
    return times[1:]


@contextmanager
def static_server(root: Path, log: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", LOOPBACK, "--directory", str(root)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://{LOOPBACK}:{port}/portal/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the static server did not start") from None
                time.sleep(0.1)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        stop_process(process)


def _stats(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
    }


def run_portal(opts: SuiteOptions) -> dict[str, Any]:
    from tests.portal.support import chromium_path

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("Chromium is not installed (`make chromium` installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    ensure_build()
    loads = opts.extra.get("portal_loads", 5 if opts.quick else 20)
    _say(f"[{opts.backend}] portal page load: {loads} loads in headless Chromium ...")
    with tempfile.TemporaryDirectory(prefix="ryggrad-bench-portal-") as tmp_name:
        tmp = Path(tmp_name)
        env = {"RYGGRAD_PORTAL_DIST": str(DIST)}
        with (
            sync_playwright() as playwright,
            temp_database(opts.backend, tmp / "db") as url,
            ryggrad_server(url, tmp / "data", extra_env=env) as server,
        ):
            browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            try:
                ours = time_loads(browser, server.root + "/portal/", loads)
                _say(f"    ryggrad serve: p50 {statistics.median(ours):.0f} ms")
                static_root = tmp / "static"
                shutil.copytree(DIST, static_root / "portal")
                config = httpx.get(server.root + "/portal/config.json", timeout=10)
                config.raise_for_status()
                (static_root / "portal" / "config.json").write_bytes(config.content)
                with static_server(static_root, tmp / "static.log") as static_root_url:
                    bare = time_loads(browser, static_root_url + "/portal/", loads)
                _say(f"    static server: p50 {statistics.median(bare):.0f} ms")
            finally:
                browser.close()
    mine, limit = _stats(ours), _stats(bare)
    figures = [
        Figure("Portal sign-in form interactive, p50 ms", mine["p50_ms"], "ms", limit["p50_ms"],
               "same files, bare static server", False),
        Figure("Portal sign-in form interactive, p95 ms", mine["p95_ms"], "ms", limit["p95_ms"],
               "same files, bare static server", False),
    ]  # fmt: skip
    return {
        "figures": [f.as_json() for f in figures],
        "details": {"loads": loads, "ryggrad": mine, "static": limit, "chromium": executable},
    }
