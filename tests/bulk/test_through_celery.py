"""The export through the real machinery: ``ryggrad serve`` as a process (its embedded Celery worker and scheduler,
the filesystem broker), a kick-off over HTTP queued to the worker, polled until its manifest, the files fetched."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from tests.e2e.processes import free_port

BIN = Path(sys.executable).parent


def test_an_export_runs_in_the_served_worker(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    env = {**os.environ, "RYGGRAD_DATA_DIR": str(tmp_path), "RYGGRAD_BASE_URL": base, "RYGGRAD_AUTH": "dev"}
    env["RYGGRAD_BULK_RETRY_AFTER_S"] = "1"
    env.pop("RYGGRAD_DATABASE_URL", None)
    subprocess.run([BIN / "ryggrad", "migrate"], env=env, check=True, capture_output=True, timeout=180)
    process = subprocess.Popen(
        [BIN / "ryggrad", "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            assert process.poll() is None
            time.sleep(0.2)
        token = subprocess.run(
            [BIN / "ryggrad", "token", "--role", "registry-admin"],
            env=env, check=True, capture_output=True, text=True, timeout=60,
        ).stdout.strip()  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        made = [
            httpx.post(f"{base}/Patient", json={"resourceType": "Patient", "gender": "other"}, headers=auth).json()
            for _ in range(3)
        ]
        kick_off = httpx.get(f"{base}/$export", params={"_type": "Patient"}, headers=auth | {"Prefer": "respond-async"})
        assert kick_off.status_code == 202, kick_off.text
        status_url = kick_off.headers["content-location"]
        deadline = time.monotonic() + 90
        while True:
            status = httpx.get(status_url, headers=auth)
            if status.status_code == 200:
                break
            assert status.status_code == 202, status.text
            assert time.monotonic() < deadline, "the worker did not finish the export"
            time.sleep(int(status.headers["retry-after"]))
        manifest = status.json()
        lines = []
        for item in manifest["output"]:
            data = httpx.get(item["url"], headers=auth)
            assert data.status_code == 200
            lines += [orjson.loads(line) for line in data.content.splitlines()]
        assert {p["id"] for p in lines} == {p["id"] for p in made}
        assert (tmp_path / "bulk").is_dir()  # under RYGGRAD_DATA_DIR
    finally:
        process.terminate()
        process.communicate(timeout=30)
