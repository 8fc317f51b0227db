"""``ryggrad demo --with-standins`` as a user runs it: the demo data, the HelseID, Helsenorge and DIPS stand-ins, and
the server wired to them. The server pulls DIPS's appointments with a HelseID token, opens their episodes and, once
the clock reaches their day, sends the forms to the Helsenorge stand-in; a SIGTERM stops every process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.processes import free_port, served_environment, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DIPS_SYSTEM = "https://ryggrad.no/fhir/sid/dips-appointment"


def _count(base: str, headers: dict[str, str], path: str, **params: str) -> int:
    try:
        response = httpx.get(f"{base}/{path}", params={**params, "_summary": "count"}, headers=headers, timeout=10)
    except httpx.HTTPError:
        return 0
    return int(response.json().get("total", 0)) if response.status_code == 200 else 0


def test_the_demo_runs_the_registry_among_its_standins(tmp_path: Path):
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    env = served_environment(tmp_path, base)
    ryggrad = [str(BIN / "ryggrad")]
    for step in (["migrate"], ["load", "profiles"]):
        subprocess.run([*ryggrad, *step], env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
    log_path = tmp_path / "demo.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    demo = subprocess.Popen(
        [*ryggrad, "demo", "--with-standins", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=log
    )
    try:
        token = subprocess.run(
            [*ryggrad, "token", "--role", "registry-admin"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        admin = {"Authorization": f"Bearer {token.stdout.strip()}"}
        # DIPS's bookings, pulled with a HelseID token and mapped into the registry's Appointments
        wait_for(
            lambda: _count(base, admin, "Appointment", identifier=f"{DIPS_SYSTEM}|") >= 8,
            "the pulled appointments",
            timeout=120,
        )
        wait_for(lambda: "DIPS        GET /Appointment (search)" in log_path.read_text(), "the pull shown", timeout=120)
        # a month and a half on, every form of theirs is due: the Helsenorge stand-in receives them
        subprocess.run([*ryggrad, "clock", "--travel", "45d"], env=env, cwd=ROOT, check=True, capture_output=True)
        wait_for(
            lambda: "Helsenorge  POST /oppgave/v1/Task → 201" in log_path.read_text(),
            "a form at Helsenorge",
            timeout=120,
        )
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(timeout=60)
        finally:
            log.close()
    assert demo.returncode is not None
    wait_for(lambda: _count(base, admin, "metadata") == 0 and not _serving(port), "every process to stop", timeout=60)


def _serving(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
