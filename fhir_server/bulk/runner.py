"""Running an export job in a worker: the job is claimed, its files brought back to its last checkpoint, and the
searches of its plan paged through — with the server's own search, as the principal who asked, so that whatever
the query layer does for that caller (a unit's ownership, a researcher's de-identification) shapes the export —
each page written to the files and then recorded as the new checkpoint. A worker that dies mid-page leaves lines
past the checkpoint, which the next one cuts off; one that lost its lease (the job was cancelled, or taken over)
stops at its next report."""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import orjson

from fhir_server.bulk import jobs
from fhir_server.bulk.files import ExportFiles, job_dir, remove_job_dir
from fhir_server.bulk.plan import Query, multi_filtered, patients_referenced, queries
from fhir_server.bulk.principals import from_json
from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.research.gateway import REAL_IDS
from fhir_server.rest.bundles import matches
from fhir_server.rest.messages import FhirRequest

if TYPE_CHECKING:
    from fhir_server.server import FhirServer

log = logging.getLogger("ryggrad.bulk")

PATIENTS_FILE = "patients.json"


def run_export(server: FhirServer, job_id: str, worker: str) -> str:
    """Run (or resume) the job if it is for this worker to run; what became of it: completed, failed, stopped
    (cancelled or taken over), or skipped (not this worker's to run)."""
    settings = server.settings
    now = server.clock()
    job = jobs.claim(server.db, job_id, worker, now, jobs.stale_before(now, settings.bulk_stale_after_s))
    if job is None:
        return "skipped"
    if job.attempts > settings.bulk_max_attempts:
        jobs.fail(server.db, job_id, now, 500, f"The export stopped {job.attempts - 1} times; it was given up")
        return "failed"
    try:
        ExportRun(server, job, worker).run()
        return "completed"
    except jobs.LeaseLost:
        _cancelled(server, job_id)
        return "stopped"
    except Exception as exc:
        if _cancelled(server, job_id):  # its files went while a page was being written
            return "stopped"
        _failed(server, job_id, worker, exc)
        return "failed"


def _cancelled(server: FhirServer, job_id: str) -> bool:
    """Whether the job was cancelled (or removed) meanwhile; if so, its folder goes (again)."""
    with server.db.reading() as conn:
        current = jobs.get(conn, job_id)
    if current is None or current.status == jobs.CANCELLED:
        remove_job_dir(server.settings, job_id)
        return True
    return False


def _failed(server: FhirServer, job_id: str, worker: str, exc: Exception) -> None:
    """Record why the job failed: a FhirError's status and reason, else a 500 with an incident number."""
    if isinstance(exc, FhirError):
        reason = exc.issues[0].diagnostics if exc.issues else f"HTTP {exc.status}"
        jobs.fail(server.db, job_id, server.clock(), exc.status, reason, worker)
        return
    incident = uuid.uuid4().hex[:12]
    log.error("export %s failed, incident %s", job_id, incident, exc_info=exc)
    jobs.fail(server.db, job_id, server.clock(), 500, f"Internal error (incident {incident})", worker)


class ExportRun:
    """One worker's run of one job, from its checkpoint to its end."""

    def __init__(self, server: FhirServer, job: jobs.Job, worker: str) -> None:
        self.server = server
        self.settings = server.settings
        self.job = job
        self.worker = worker
        self.principal = from_json(job.principal)
        self.patient_level = job.level != "system"
        self.folder = job_dir(self.settings, job.id)
        checkpoint = job.checkpoint or {}
        self.files = ExportFiles.restore(
            self.folder, self.settings.bulk_file_max_resources, self.settings.bulk_file_max_bytes,
            checkpoint.get("files") or [],
        )  # fmt: skip
        self.step: int = checkpoint.get("step", 0)
        self.page: str | None = checkpoint.get("page")
        self.queries: list[Query] = queries(job.parameters, self.patient_level)
        self.overlapping = multi_filtered(job.parameters)
        self.patients: list[str] = []
        self.seen: set[str] = set()
        self.reported = time.monotonic()

    # -- where it stands -------------------------------------------------------------------------------------
    def _checkpoint(self) -> dict[str, Any]:
        return {"step": self.step, "page": self.page, "files": self.files.recorded()}

    @property
    def total(self) -> int:
        return len(self.queries) * (len(self.patients) if self.patient_level else 1)

    def _progress(self) -> str:
        written = sum(f.count for f in self.files.outputs())
        share = int(100 * self.step / self.total) if self.total else 100
        if self.patient_level:
            done = self.step // len(self.queries) if self.queries else 0
            return f"{share}%: {done} of {len(self.patients)} patients, {written} resources"
        return f"{share}%: search {min(self.step + 1, self.total)} of {self.total}, {written} resources"

    def _report(self, *, checkpoint: bool) -> None:
        jobs.report(
            self.server.db, self.job.id, self.worker, self.server.clock(),
            checkpoint=self._checkpoint() if checkpoint else None, progress=self._progress(),
        )  # fmt: skip
        self.reported = time.monotonic()

    def _still_mine(self) -> None:
        """Renew the lease before writing when the last report is getting old (a slow page)."""
        if time.monotonic() - self.reported > self.settings.bulk_stale_after_s / 4:
            self._report(checkpoint=False)

    # -- the run ---------------------------------------------------------------------------------------------
    def run(self) -> None:
        if self.patient_level:
            self.patients = self._patient_ids()
        self._remember_written()
        while self.step < self.total:
            query, patient = self._at(self.step)
            found, next_page = self._fetch(query, patient)
            self._still_mine()
            if isinstance(found, dict):  # an OperationOutcome: the search failed
                self.files.append([found], error=True)
            else:
                self.files.append(self._new(found, query))
            self.page = next_page
            if next_page is None:
                self.step += 1
            self._report(checkpoint=True)
        jobs.complete(
            self.server.db, self.job.id, self.worker, self.server.clock(), self._checkpoint(), self._progress()
        )

    def _at(self, step: int) -> tuple[Query, str | None]:
        if not self.patient_level:
            return self.queries[step], None
        return self.queries[step % len(self.queries)], self.patients[step // len(self.queries)]

    def _tracked(self, item: dict[str, Any]) -> bool:
        """Whether a resource may be found again by a later search of the plan (so is remembered)."""
        if item.get("resourceType") in self.overlapping:
            return True
        return self.patient_level and len(patients_referenced(item)) > 1

    def _remember_written(self) -> None:
        if not self.overlapping and not self.patient_level:
            return
        for item in self.files.lines():
            if self._tracked(item):
                self.seen.add(f"{item.get('resourceType')}/{item.get('id')}")

    def _new(self, found: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        kept = []
        for item in found:
            if item.get("resourceType") in query.exclude:
                continue
            if self._tracked(item):
                key = f"{item.get('resourceType')}/{item.get('id')}"
                if key in self.seen:
                    continue
                self.seen.add(key)
            kept.append(item)
        return kept

    # -- searching as the caller -----------------------------------------------------------------------------
    def _search(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        request = FhirRequest("GET", path, params, {"prefer": "handling=strict"}, principal=self.principal)
        return self.server.execute(request).resource or {}

    def _fetch(self, query: Query, patient: str | None) -> tuple[list[dict[str, Any]] | dict[str, Any], str | None]:
        """(the page's resources, or an OperationOutcome when the search failed; the next page's token)."""
        path = query.path(patient)
        if self.page is not None:
            params = [("_page", self.page)]
        else:
            params = [*query.params, ("_count", str(min(self.settings.bulk_page_size, self.settings.max_page_size)))]
        try:
            found = self._search(path, params)
        except FhirError as error:
            issues = [Issue(i.code, f"{path}: {i.diagnostics}", i.severity) for i in error.issues]
            return operation_outcome(issues), None
        return matches(found), _next_page(found)

    def _patient_ids(self) -> list[str]:
        """The patients a patient- or group-level export covers, worked out once per job and kept beside its
        files (a resumed job covers the same ones)."""
        path = self.folder / PATIENTS_FILE
        if path.is_file():
            return [str(p) for p in orjson.loads(path.read_bytes())]
        found = self._group_members() if self.job.level == "group" else self._all_patients()
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(found))
        os.replace(temporary, path)
        return found

    def _all_patients(self) -> list[str]:
        found: list[str] = []
        count = str(min(self.settings.bulk_page_size, self.settings.max_page_size))
        page: dict[str, Any] = self._search("Patient", [("_elements", "id"), ("_count", count)])
        while True:
            found += [str(p.get("id")) for p in matches(page)]
            token = _next_page(page)
            if token is None:
                return list(dict.fromkeys(found))
            self._still_mine()
            page = self._search("Patient", [("_page", token)])

    def _group_members(self) -> list[str]:
        # the job keeps the Group's real id (the kick-off's request was translated for a researcher): said so, and
        # the members come back as the researcher's pseudonyms, which the compartment searches then take
        request = FhirRequest("GET", f"Group/{self.job.group_id}", headers={REAL_IDS: "yes"}, principal=self.principal)
        group = self.server.execute(request).resource or {}
        found: list[str] = []
        for member in group.get("member") or ():
            if not isinstance(member, dict) or member.get("inactive") is True:
                continue
            reference = (member.get("entity") or {}).get("reference")
            parts = reference.split("/_history/")[0].split("/") if isinstance(reference, str) else []
            if len(parts) >= 2 and parts[-2] == "Patient":
                found.append(parts[-1])
        return list(dict.fromkeys(found))


def _next_page(found: dict[str, Any]) -> str | None:
    for link in found.get("link") or ():
        if link.get("relation") == "next":
            values = parse_qs(urlsplit(str(link.get("url"))).query).get("_page")
            return values[0] if values else None
    return None
