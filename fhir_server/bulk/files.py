"""An export's NDJSON files under ``<data dir>/bulk/<job>``: resources appended page by page to the current file of
their type (``Observation-1.ndjson``, ``Observation-2.ndjson`` … rolling over at a number of resources or bytes),
errors to ``errors-<n>.ndjson``. What has been written is recorded (name, type, count, size) in the job's
checkpoint; ``restore`` brings the folder back to such a record after a crash — lines written after it cut off,
files begun after it removed — so a job resumed from its checkpoint never writes anything twice."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from fhir_server.settings import Settings

ERRORS = "errors"  # the file name stem of the OperationOutcomes of an export
FILE_NAME = re.compile(r"^[A-Za-z]+-[0-9]{1,6}\.ndjson$")
JOB_ID = re.compile(r"^[0-9a-f]{32}$")


def bulk_dir(settings: Settings) -> Path:
    return settings.data_dir / "bulk"


def job_dir(settings: Settings, job_id: str) -> Path:
    if not JOB_ID.fullmatch(job_id):  # never a path outside the bulk folder
        raise ValueError(f"not a job id: {job_id!r}")
    return bulk_dir(settings) / job_id


def remove_job_dir(settings: Settings, job_id: str) -> None:
    shutil.rmtree(job_dir(settings, job_id), ignore_errors=True)


@dataclass
class OutputFile:
    name: str
    type: str  # the resources' type; OperationOutcome for the errors file
    count: int = 0
    size: int = 0
    error: bool = False


class ExportFiles:
    """The files of one job, appended to and rolled over; ``recorded`` is what a checkpoint keeps."""

    def __init__(self, folder: Path, max_resources: int, max_bytes: int, files: list[OutputFile]) -> None:
        self.folder = folder
        self.max_resources = max(1, max_resources)
        self.max_bytes = max(1, max_bytes)
        self.files = files

    @classmethod
    def restore(
        cls, folder: Path, max_resources: int, max_bytes: int, recorded: Iterable[dict[str, Any]]
    ) -> ExportFiles:
        """The folder as ``recorded`` says: each recorded file cut to its recorded size, every other file removed."""
        files = [OutputFile(**item) for item in recorded]
        folder.mkdir(parents=True, exist_ok=True)
        sizes = {f.name: f.size for f in files}
        for path in folder.iterdir():
            if path.suffix in (".ndjson", ".tmp") and path.name not in sizes:
                path.unlink()
        for file in files:
            path = folder / file.name
            with open(path, "ab") as handle:
                handle.truncate(file.size)
                os.fsync(handle.fileno())
        return cls(folder, max_resources, max_bytes, files)

    def recorded(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.files]

    def _current(self, stem: str, kind: str, error: bool) -> OutputFile:
        mine = [f for f in self.files if f.name.rsplit("-", 1)[0] == stem]
        last = mine[-1] if mine else None
        if last is not None and last.count < self.max_resources and last.size < self.max_bytes:
            return last
        file = OutputFile(f"{stem}-{len(mine) + 1}.ndjson", kind, error=error)
        self.files.append(file)
        return file

    def append(self, resources: Iterable[dict[str, Any]], *, error: bool = False) -> int:
        """Write ``resources`` (one line each, to the file of their type) and flush them to disk; how many."""
        handles: dict[str, Any] = {}
        written = 0
        try:
            for item in resources:
                kind = str(item.get("resourceType"))
                line = orjson.dumps(item) + b"\n"
                file = self._current(ERRORS if error else kind, kind, error)
                handle = handles.get(file.name)
                if handle is None:
                    handle = handles[file.name] = open(self.folder / file.name, "ab")  # noqa: SIM115
                handle.write(line)
                file.count += 1
                file.size += len(line)
                written += 1
        finally:
            for handle in handles.values():
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
        return written

    def outputs(self) -> list[OutputFile]:
        return [f for f in self.files if not f.error and f.count]

    def errors(self) -> list[OutputFile]:
        return [f for f in self.files if f.error and f.count]

    def lines(self, kinds: set[str] | None = None) -> Iterator[dict[str, Any]]:
        """The resources written so far (``kinds``: of these types only)."""
        for file in self.files:
            if file.error or (kinds is not None and file.type not in kinds):
                continue
            with open(self.folder / file.name, "rb") as handle:
                for line in handle:
                    if line.strip():
                        yield orjson.loads(line)


def read_file(settings: Settings, job_id: str, name: str) -> bytes | None:
    """A finished job's file, or None when there is no such file."""
    if not FILE_NAME.fullmatch(name):
        return None
    path = job_dir(settings, job_id) / name
    return path.read_bytes() if path.is_file() else None
