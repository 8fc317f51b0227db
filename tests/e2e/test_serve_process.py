"""``ryggrad migrate`` and ``ryggrad serve`` as real processes, spoken to over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.processes import free_port, served_environment, wait_for

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "fhir_server.cli"]


def test_serve_answers_over_http(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "RYGGRAD_DATA_DIR": str(tmp_path),
        "RYGGRAD_BASE_URL": f"http://127.0.0.1:{port}/fhir",
        "RYGGRAD_AUTH": "dev",
    }
    env.pop("RYGGRAD_DATABASE_URL", None)
    subprocess.run([BIN / "ryggrad", "migrate"], env=env, check=True, capture_output=True, timeout=120)
    process = subprocess.Popen(
        [BIN / "ryggrad", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            time.sleep(0.2)
        token = subprocess.run(
            [BIN / "ryggrad", "token", "--role", "clinician", "--org", "974589095"],
            env=env, check=True, capture_output=True, text=True, timeout=60,
        ).stdout.strip()  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        patient = {"resourceType": "Patient", "gender": "female"}
        assert httpx.post(f"{base}/fhir/Patient", json=patient).status_code == 401  # no token, no data
        created = httpx.post(f"{base}/fhir/Patient", json=patient, headers=auth)
        assert created.status_code == 201
        assert created.headers["location"].startswith(f"{base}/fhir/Patient/")
        read = httpx.get(created.headers["location"], headers=auth)
        assert read.json()["gender"] == "female"
        assert httpx.get(f"{base}/fhir/metadata").json()["fhirVersion"] == "4.0.1"
        assert (tmp_path / "ryggrad.db").exists()  # everything under RYGGRAD_DATA_DIR
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    # the access log carries paths, never query strings
    assert b"/fhir/Patient" in output


def _api_processes(parent: int) -> list[int]:
    """The API processes ``ryggrad serve --workers N`` started (its children serving with --reuse-port)."""
    found = []
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if b"--reuse-port" in command:
            found.append(int(child))
    return found


def test_serve_with_several_api_processes_spreads_restarts_and_stops_them(tmp_path):
    """``--workers 2``: two API processes, each its own SO_REUSEPORT socket on the one port; one that dies is
    started again; SIGTERM stops them all."""
    port = free_port()
    env = served_environment(tmp_path, f"http://127.0.0.1:{port}/fhir", PYTHONPATH=str(ROOT))
    subprocess.run([*CLI, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    parent = subprocess.Popen(
        [*CLI, "serve", "--no-worker", "--workers", "2", "--port", str(port)], env=env, cwd=ROOT, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        first = wait_for(lambda: len(_api_processes(parent.pid)) == 2 and _api_processes(parent.pid), "2 processes")
        listening = wait_for(lambda: _listeners(port) >= 2 and _listeners(port), "both sockets listening")
        assert listening == 2  # two sockets on one port: the kernel spreads the connections
        answers = [httpx.get(f"http://127.0.0.1:{port}/fhir/metadata", timeout=10) for _ in range(20)]
        assert {a.status_code for a in answers} == {200}
        os.kill(first[0], signal.SIGKILL)
        again = wait_for(
            lambda: (found := _api_processes(parent.pid)) and len(found) == 2 and first[0] not in found and found,
            "the killed process to be started again",
        )
        assert first[1] in again
        wait_for(lambda: _listeners(port) >= 2, "the new process listening")
        assert httpx.get(f"http://127.0.0.1:{port}/fhir/metadata", timeout=10).status_code == 200
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=40) == 0
        assert all(not Path(f"/proc/{pid}").exists() for pid in again)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in _api_processes(parent.pid) if Path(f"/proc/{parent.pid}").exists() else []:
            os.kill(pid, signal.SIGKILL)
        log.close()


def _listeners(port: int) -> int:
    """Listening TCP sockets on 127.0.0.1:``port`` (/proc/net/tcp, state 0A)."""
    wanted = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1] == wanted and row.split()[3] == "0A")
