"""The 18 Synthea bundles of ``../shared``, read in place: hospitals and practitioners first (patient bundles refer
to them by conditional references), then the patients."""

from __future__ import annotations

import bz2
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench import SYNTHEA_DIR

QUICK_PATIENT_BUNDLES = 4


@dataclass(frozen=True)
class SyntheaBundle:
    name: str
    body: bytes  # the decompressed JSON, as sent
    kind: str  # batch or transaction
    resources: list[dict[str, Any]]

    @property
    def size(self) -> int:
        return len(self.resources)


def bundle_paths(folder: Path = SYNTHEA_DIR) -> list[Path]:
    paths = sorted(folder.glob("*.json.bz2"))
    if not paths:
        raise SystemExit(f"no Synthea bundles in {folder} (../shared beside the checkout is needed)")
    # "0-…" (hospitals, practitioners) sort first already; make it explicit
    return sorted(paths, key=lambda p: (not p.name.startswith("0-"), p.name))


def load_bundles(quick: bool = False, folder: Path = SYNTHEA_DIR) -> list[SyntheaBundle]:
    paths = bundle_paths(folder)
    if quick:
        first = [p for p in paths if p.name.startswith("0-")]
        paths = first + [p for p in paths if not p.name.startswith("0-")][:QUICK_PATIENT_BUNDLES]
    bundles = []
    for path in paths:
        body = bz2.decompress(path.read_bytes())
        parsed = orjson.loads(body)
        resources = [entry["resource"] for entry in parsed.get("entry", ()) if "resource" in entry]
        bundles.append(SyntheaBundle(path.name.removesuffix(".json.bz2"), body, parsed["type"], resources))
    return bundles


def sample_patient(bundles: list[SyntheaBundle]) -> dict[str, Any]:
    """A Synthea Patient as a client would POST it: no id, no references into its bundle."""
    for bundle in bundles:
        for resource in bundle.resources:
            if resource.get("resourceType") == "Patient":
                skip = {"id", "generalPractitioner", "managingOrganization", "link"}
                return {k: v for k, v in resource.items() if k not in skip}
    raise SystemExit("no Patient in the Synthea bundles")
