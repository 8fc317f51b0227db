"""``ryggrad demo --with-standins``: the demo data, the registry's surroundings as local stand-ins (HelseID,
Helsenorge's task endpoint, a DIPS Arena FHIR endpoint — from ``tests/standins/``, so a source checkout is needed)
and the server wired to them, in one command. DIPS books appointments for some demo patients and, while it runs,
books, moves and cancels more now and then; the server pulls them with a HelseID token, opens episodes, and sends
each form to the Helsenorge stand-in when it is due (``ryggrad clock --travel 16d`` to see that today). What the
stand-ins receive is printed as it arrives; Ctrl-C stops everything."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fhir_server.norway.identifiers import FNR_SYSTEM, ORGNR_SYSTEM, RESH_SYSTEM
from fhir_server.rest.messages import FhirRequest
from fhir_server.server import FhirServer

ROOT = Path(__file__).resolve().parents[2]
TRAFFIC_EVERY_S = 45.0  # how often DIPS changes something while the demo runs


class NoStandIns(RuntimeError):
    """The stand-ins are not here (they ship with the source checkout, in tests/standins/)."""


def _stand_ins() -> Any:
    if not (ROOT / "tests" / "standins" / "ensemble.py").is_file():
        raise NoStandIns(f"the stand-ins ship with the source checkout; {ROOT / 'tests' / 'standins'} is missing")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.standins.ensemble import StandIns

    return StandIns


def _search(server: FhirServer, resource_type: str, **params: str) -> list[dict[str, Any]]:
    response = server.execute(FhirRequest("GET", resource_type, list(params.items())))
    return [e["resource"] for e in (response.resource or {}).get("entry", []) if "resource" in e]


def demo_unit(server: FhirServer) -> tuple[str, list[str]]:
    """A demo clinic's orgnr (a unit with a RESH-id) and the FNRs of some of its patients."""
    for organization in _search(server, "Organization", identifier=f"{RESH_SYSTEM}|", _count="100"):
        orgnr = next((i["value"] for i in organization.get("identifier", []) if i.get("system") == ORGNR_SYSTEM), None)
        if orgnr is None:
            continue
        patients = _search(server, "Patient", _security=f"https://ryggrad.no/fhir/CodeSystem/owner|{orgnr}")
        fnrs = [i["value"] for p in patients for i in p.get("identifier", []) if i.get("system") == FNR_SYSTEM]
        if fnrs:
            return orgnr, fnrs
    raise RuntimeError("no demo clinic with patients: run `ryggrad demo` first")


def _show_new(stand_ins: Any, seen: dict[str, int], say: Any) -> None:
    helsenorge = stand_ins.helsenorge.requests
    for request in helsenorge[seen["helsenorge"] :]:
        body = request.body if isinstance(request.body, dict) else {}
        deadline = ((body.get("restriction") or {}).get("period") or {}).get("end", "")
        say(f"Helsenorge  {request.method} {request.path} → {request.status}  task {body.get('status', '')} {deadline}")
    seen["helsenorge"] = len(helsenorge)
    dips = stand_ins.dips.requests
    for method, path in dips[seen["dips"] :]:
        say(f"DIPS        {method} {path.split('?')[0]}{' (search)' if '?' in path else ''}")
    seen["dips"] = len(dips)


def _traffic(stand_ins: Any, fnrs: list[str], rng: random.Random, booked: list[str], say: Any) -> None:
    """DIPS's users at work: a new booking, a move, or a cancellation."""
    choice = rng.random()
    if choice < 0.5 or not booked:
        booked += stand_ins.book_some([rng.choice(fnrs)], rng)
        say(f"DIPS        booked appointment {booked[-1]}")
    elif choice < 0.8:
        dips_id = rng.choice(booked)
        slot = next(c for c in stand_ins.dips.current(dips_id)["contained"] if c["resourceType"] == "Slot")
        start = datetime.fromisoformat(slot["start"]) + timedelta(days=rng.randint(-5, 20))
        stand_ins.dips.move(dips_id, start)
        say(f"DIPS        moved appointment {dips_id}")
    else:
        dips_id = booked.pop(rng.randrange(len(booked)))
        stand_ins.dips.cancel(dips_id)
        say(f"DIPS        cancelled appointment {dips_id}")


def _stop_with_parent() -> None:
    """In the server's process: a SIGTERM when this one ends, however it ends (Linux)."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run(server: FhirServer, port: int, say: Any, seed: int = 2026) -> int:
    """Start the stand-ins and ``ryggrad serve`` wired to them; show what arrives until Ctrl-C or the server ends.
    The server's exit code."""
    stand_ins_type = _stand_ins()
    orgnr, fnrs = demo_unit(server)
    stand_ins = stand_ins_type(server.settings.data_dir / "standins", orgnr)
    rng = random.Random(seed)
    booked = stand_ins.book_some(fnrs[:8], rng)
    environment = {**os.environ, **stand_ins.environment()}
    say(f"HelseID stand-in     {stand_ins.helseid.issuer}")
    say(f"Helsenorge stand-in  {stand_ins.helsenorge.url}")
    say(f"DIPS stand-in        {stand_ins.dips.base}  ({len(booked)} appointments booked for unit {orgnr})")
    say(f"Ryggrad              http://127.0.0.1:{port}/fhir  (pulls DIPS every {stand_ins.pull_interval_s:g} s)")
    command = [sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port)]
    serving = subprocess.Popen(command, env=environment, preexec_fn=_stop_with_parent)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: the server and the stand-ins end too
    seen = {"helsenorge": 0, "dips": 0}
    next_change = time.monotonic() + TRAFFIC_EVERY_S
    try:
        while serving.poll() is None:
            time.sleep(1.0)
            _show_new(stand_ins, seen, say)
            if time.monotonic() >= next_change:
                _traffic(stand_ins, fnrs, rng, booked, say)
                next_change = time.monotonic() + TRAFFIC_EVERY_S
    except KeyboardInterrupt:
        pass
    finally:
        if serving.poll() is None:
            serving.terminate()
            try:
                serving.wait(timeout=30)
            except subprocess.TimeoutExpired:
                serving.kill()
        stand_ins.close()
    return serving.returncode or 0
