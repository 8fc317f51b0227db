"""Loading FHIR JSON files into the server through its own interactions (``ryggrad load``).

A transaction or batch Bundle is processed as one; a collection/searchset Bundle loads each resource; a single
resource is written with PUT when it has an id (conformance resources do) and POST otherwise.
"""

from __future__ import annotations

import bz2
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.rest.messages import FhirRequest
from fhir_server.server import FhirServer


@dataclass
class LoadReport:
    files: int = 0
    resources: int = 0
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files of no R4 resource type (profiles/topics: R5 topics)


def json_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.name.endswith((".json", ".json.bz2")))
        else:
            found.append(path)
    return [p for p in found if p.name not in ("package.json", ".index.json")]


def read_json(path: Path) -> Any:
    data = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    return orjson.loads(data)


def _requests(document: Any) -> Iterator[tuple[FhirRequest, int]]:
    """The requests that load a document, each with the number of resources it carries."""
    if not isinstance(document, dict) or "resourceType" not in document:
        raise ValueError("not a FHIR resource")
    kind = document.get("type") if document["resourceType"] == "Bundle" else None
    if kind in ("transaction", "batch"):
        yield FhirRequest("POST", "", body=document), len(document.get("entry") or [])
        return
    if kind in ("collection", "searchset"):
        resources = [e["resource"] for e in document.get("entry") or [] if isinstance(e.get("resource"), dict)]
    else:
        resources = [document]
    for resource in resources:
        if resource.get("id"):
            yield FhirRequest("PUT", f"{resource['resourceType']}/{resource['id']}", body=resource), 1
        else:
            yield FhirRequest("POST", resource["resourceType"], body=resource), 1


def load_file(server: FhirServer, path: Path, report: LoadReport) -> None:
    try:
        document = read_json(path)
        kind = document.get("resourceType") if isinstance(document, dict) else None
        if isinstance(kind, str) and kind != "Bundle" and kind not in server.resource_types:
            # the subscription topics (R5 SubscriptionTopic) in profiles/topics: read by the server, not stored
            report.skipped.append(f"{path}: {kind} is not an R4 resource type")
            return
        requests = list(_requests(document))
    except (ValueError, OSError) as exc:
        report.failures.append(f"{path}: {exc}")
        return
    report.files += 1
    for request, count in requests:
        try:
            server.execute(request)
            report.resources += count
        except FhirError as error:
            report.failures.append(f"{path}: {error.status} {error.issues[0].diagnostics}")
