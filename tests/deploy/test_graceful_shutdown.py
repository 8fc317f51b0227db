"""SIGTERM to an API process (``ryggrad serve --no-worker``), as a service manager or ``docker stop`` sends it:
it stops accepting at once (the load balancer's next try goes elsewhere), finishes the request under way, and
exits."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.e2e.processes import free_port, served_environment, wait_for

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "fhir_server.cli"]


def test_sigterm_finishes_the_request_under_way_and_refuses_new_ones(tmp_path: Path) -> None:
    port = free_port()
    env = served_environment(tmp_path, f"http://127.0.0.1:{port}/fhir", PYTHONPATH=str(ROOT))
    subprocess.run([*CLI, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    token = subprocess.run(
        [*CLI, "token", "--role", "registry-admin"], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    log = open(tmp_path / "api.log", "wb")  # noqa: SIM115 - closed below
    api = subprocess.Popen(
        [*CLI, "serve", "--no-worker", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: _healthy(port), "the API", 90)
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "resource": {"resourceType": "Basic", "code": {"text": f"item {n}"}},
                    "request": {"method": "POST", "url": "Basic"},
                }
                for n in range(3000)
            ],
        }
        body = json.dumps(bundle).encode()
        half = len(body) // 2
        body_started, finish_body = threading.Event(), threading.Event()

        def upload() -> Iterator[bytes]:  # the request stays under way until the test lets its body finish
            yield body[:half]
            body_started.set()
            finish_body.wait(30)
            yield body[half:]

        answer: list[httpx.Response] = []

        def push() -> None:
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/fhir+json",
                "Content-Length": str(len(body)),
            }
            answer.append(httpx.post(f"http://127.0.0.1:{port}/fhir", content=upload(), headers=headers, timeout=60))

        sender = threading.Thread(target=push)
        sender.start()
        assert body_started.wait(30)
        time.sleep(0.3)  # the server has the headers: the request is under way
        api.send_signal(signal.SIGTERM)
        wait_for(lambda: not _accepts(port), "the listening socket to close", 5)
        finish_body.set()
        sender.join(timeout=60)
        (got,) = answer
        assert got.status_code == 200, got.text[:500]
        assert [e["response"]["status"][:3] for e in got.json()["entry"]] == ["201"] * 3000
        # uvicorn re-raises the signal once done: "terminated by SIGTERM", which systemd and Docker count as a stop
        assert api.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "timeout graceful shutdown exceeded" not in (tmp_path / "api.log").read_text()
    finally:
        if api.poll() is None:
            api.kill()
            api.wait()
        log.close()


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
