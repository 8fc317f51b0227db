"""``ryggrad migrate`` and ``ryggrad serve`` as real processes, spoken to over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.processes import free_port

BIN = Path(sys.executable).parent


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
