"""What the portal's browser tests stand on: a fresh build of ``portal/`` (built once, by one test process at a time),
a real ``ryggrad serve`` (API, embedded worker and scheduler) on a free port with its own data directory, and
registry forms made the way the EHR makes them — an appointment flagged for NNRR — and sent at once."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx

from fhir_server.auth.dev_issuer import DevIssuer
from fhir_server.norway.identifiers import FNR_SYSTEM, ORGNR_SYSTEM, RESH_SYSTEM
from fhir_server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
DIST = PORTAL / "dist"
BIN = Path(sys.executable).parent
ORGNR = "974589095"
SD = "https://ryggrad.no/fhir/StructureDefinition/"
REGISTRY_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry"
T = TypeVar("T")

#: What the build reads: a change to any of them makes ``portal/dist`` stale.
SOURCES = ("src", "index.html", "clinic.html", "vite.config.js", "package.json", "package-lock.json")


def chromium_path() -> str | None:
    """The Debian ``chromium`` (``playwright install`` cannot download browsers here)."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = PORTAL / name
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def portal_is_stale() -> bool:
    pages = [DIST / "index.html", DIST / "clinic.html"]
    if not all(page.is_file() for page in pages):
        return True
    return min(page.stat().st_mtime for page in pages) < _newest_source()


def build_portal() -> str | None:
    """Build ``portal/dist`` when it is missing or older than its sources; the reason when it cannot be built."""
    with open(Path(tempfile.gettempdir()) / "ryggrad-portal-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test processes (pytest -n) build one at a time, and once
        if not portal_is_stale():
            return None
        if shutil.which("npx") is None:
            return "Node.js is not installed: the portal cannot be built (`make portal`)"
        if not (PORTAL / "node_modules" / "vite").is_dir():
            return "the portal's Node packages are not installed (`make install-test` installs them)"
        built = subprocess.run(
            ["npx", "vite", "build", "--logLevel", "warn"], cwd=PORTAL, capture_output=True, text=True, timeout=600
        )
        if built.returncode != 0:
            raise RuntimeError(f"the portal build failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}")
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class PortalServer:
    """``ryggrad serve`` with the development issuer, its data in ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base = f"{self.url}/fhir"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RYGGRAD_")}
        self.env.update(
            RYGGRAD_DATA_DIR=str(data_dir),
            RYGGRAD_BASE_URL=self.base,
            RYGGRAD_AUTH="dev",
            RYGGRAD_RATE_LIMIT_PER_MINUTE="0",
            RYGGRAD_SWEEP_INTERVAL_S="0.5",
            RYGGRAD_REGISTRY_ACTIVATION_INTERVAL_S="1",
            RYGGRAD_PORTAL_DIST=str(DIST),
        )
        self.issuer = DevIssuer(Settings(data_dir=data_dir, auth="dev"))
        self.http = httpx.Client(timeout=30)

    def run(self, *args: str) -> None:
        subprocess.run([str(BIN / "ryggrad"), *args], env=self.env, cwd=ROOT, check=True, capture_output=True)

    @contextmanager
    def serving(self) -> Iterator[PortalServer]:
        self.run("migrate")
        self.run("load", *map(str, sorted((ROOT / "profiles").glob("Questionnaire-*.json"))))
        with open(self.data_dir / "serve.log", "wb") as log:
            process = subprocess.Popen(
                [str(BIN / "ryggrad"), "serve", "--port", str(self.port)],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its worker and scheduler go with it
            )
            try:
                wait_for(self._healthy, "the server", timeout=60)
                self._unit()
                yield self
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                self.http.close()

    def _healthy(self) -> bool:
        try:
            return self.http.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def token(self, role: str, **claims: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.mint(role, **claims)}"}

    def _unit(self) -> None:
        unit = {
            "resourceType": "Organization",
            "id": "portal-unit",
            "name": "Portal test clinic",
            "identifier": [{"system": ORGNR_SYSTEM, "value": ORGNR}, {"system": RESH_SYSTEM, "value": "4243"}],
        }
        answer = self.http.put(f"{self.base}/Organization/portal-unit", json=unit, headers=self.token("registry-admin"))
        assert answer.status_code in (200, 201), answer.text

    def push_appointment(
        self,
        fnr: str,
        start: datetime,
        *,
        registry: str = "nnrr",
        name: tuple[str, str] | None = None,
        minutes: int | None = None,
        prefix: str = "portal",
    ) -> tuple[str, str]:
        """The EHR pushes a booked appointment flagged for ``registry`` for the patient with ``fnr`` (created if
        new; ``name``: given, family), as one transaction; (the appointment's id, ``Patient/<id>``)."""
        appointment = f"{prefix}-{uuid.uuid4().hex[:12]}"
        patient_url = f"urn:uuid:{uuid.uuid4()}"
        patient: dict[str, Any] = {
            "resourceType": "Patient",
            "identifier": [{"system": FNR_SYSTEM, "value": fnr, "use": "official"}],
        }
        if name:
            patient["name"] = [{"family": name[1], "given": [name[0]]}]
        booked: dict[str, Any] = {
            "resourceType": "Appointment",
            "id": appointment,
            "extension": [
                {"url": SD + "registry-potential", "valueCoding": {"system": REGISTRY_SYSTEM, "code": registry}}
            ],
            "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.2.1234.9", "value": appointment}],
            "status": "booked",
            "start": start.isoformat(),
            "participant": [{"status": "accepted", "actor": {"reference": patient_url}}],
        }
        if minutes:
            booked["end"] = (start + timedelta(minutes=minutes)).isoformat()
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": patient_url,
                    "resource": patient,
                    "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={FNR_SYSTEM}|{fnr}"},
                },
                {"resource": booked, "request": {"method": "PUT", "url": f"Appointment/{appointment}"}},
            ],
        }
        pushed = self.http.post(self.base, json=bundle, headers=self.token("ehr", org=ORGNR))
        assert pushed.status_code == 200, pushed.text
        location = pushed.json()["entry"][0]["response"]["location"]
        return appointment, "/".join(location.split("/_history")[0].split("/")[-2:])

    def nnrr_form(self, fnr: str) -> dict[str, Any]:
        """The patient's NNRR pre-consultation form (a Task), as the EHR's flagged appointment makes it, sent now."""
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        _, patient = self.push_appointment(fnr, start)
        admin = self.token("registry-admin")

        def task() -> dict[str, Any] | None:
            found = self.http.get(f"{self.base}/Task", params={"patient": patient}, headers=admin).json()
            return next((e["resource"] for e in found.get("entry", [])), None)

        made = wait_for(task, "the worker to make the form's Task")
        sent = self.http.post(f"{self.base}/Task/{made['id']}/$dispatch-now", headers=admin)
        assert sent.status_code == 200, sent.text
        return sent.json()

    def task(self, task_id: str) -> dict[str, Any]:
        return self.http.get(f"{self.base}/Task/{task_id}", headers=self.token("registry-admin")).json()

    def search(self, path: str, **params: str) -> list[dict[str, Any]]:
        found = self.http.get(f"{self.base}/{path}", params=params, headers=self.token("registry-admin")).json()
        return [e["resource"] for e in found.get("entry", [])]
