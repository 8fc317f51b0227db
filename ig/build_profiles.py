"""``make profiles``: compile the Implementation Guide (``ig/``) with SUSHI, offline, and write what it defines.

- Conformance resources (StructureDefinitions, ValueSets, CodeSystems, SearchParameters, Questionnaires, Measures …)
  go to ``profiles/``, with the authored JSON of ``ig/input/resources/``: the package the server loads, committed so
  that running the server needs no Node.
- The registry Questionnaires, built from the instrument catalogue in ``ig/forms/``, and the quality indicators
  (Measures), built from the indicator table in ``ig/indicators/``, go to ``profiles/`` too.
- Example instances go to ``ig/examples/valid/`` (the tests validate them; the invalid ones beside them are
  authored by hand).
- The subscription topics (R5 SubscriptionTopic definitions, which R4 has no resource type for) are authored in
  ``ig/input/topics/`` and go to ``profiles/topics/``, where the server reads them.

SUSHI reads the R4 core package from the FHIR package cache (``ryggrad packages`` fills it); nothing is fetched.
``--check`` builds into a temporary folder and reports, without writing, whether the committed files are stale.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

IG = Path(__file__).resolve().parent
ROOT = IG.parent
PROFILES = ROOT / "profiles"
EXAMPLES = IG / "examples" / "valid"
AUTHORED = IG / "input" / "resources"
TOPICS = IG / "input" / "topics"
SUSHI = IG / "node_modules" / ".bin" / "sushi"
TARGETS = {
    "profiles": PROFILES,
    "examples": EXAMPLES,
    "topics": PROFILES / "topics",
}  # where each kind of output is written

sys.path.insert(0, str(IG))
from forms.registry_forms import build as build_forms  # noqa: E402
from forms.registry_forms import code_systems as form_code_systems  # noqa: E402
from indicators.nnrr import build as build_nnrr_measures  # noqa: E402
from indicators.nnrr import library as nnrr_facts_library  # noqa: E402

from fhir_server.definitions.kinds import CONFORMANCE_TYPES  # noqa: E402


def _canonical_json(resource: dict) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def compile_ig(out: Path) -> dict[str, dict[Path, str]]:
    """Run SUSHI into ``out``; the files to write, by target folder (``profiles``, ``examples``)."""
    if not SUSHI.exists():
        raise SystemExit(f"SUSHI is not installed: run `npm ci --prefix {IG.relative_to(ROOT)}` first")
    command = [str(SUSHI), "build", str(IG), "--out", str(out), "--snapshot"]  # snapshots: ready to validate with
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or " 0 Errors" not in result.stdout:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-2000:])
        raise SystemExit("SUSHI reported errors")
    files: dict[str, dict[Path, str]] = {"profiles": {}, "examples": {}, "topics": {}}
    generated = sorted((out / "fsh-generated" / "resources").glob("*.json"))
    authored = sorted(AUTHORED.glob("*.json")) if AUTHORED.is_dir() else []
    for path in [*generated, *authored]:
        resource = json.loads(path.read_text(encoding="utf-8"))
        definition = resource.get("resourceType") in CONFORMANCE_TYPES and not str(resource.get("id")).startswith(
            "example-"
        )
        kind = "profiles" if definition else "examples"
        files[kind][Path(path.name)] = _canonical_json(resource)
    for path in sorted(TOPICS.glob("*.json")):
        files["topics"][Path(path.name)] = _canonical_json(json.loads(path.read_text(encoding="utf-8")))
    forms = build_forms()  # the registry Questionnaires, built from the instrument catalogue
    for form in forms:
        files["profiles"][Path(f"Questionnaire-{form['id']}.json")] = _canonical_json(form)
    for system in form_code_systems(forms):
        files["profiles"][Path(f"CodeSystem-{system['id']}.json")] = _canonical_json(system)
    for measure in build_nnrr_measures():  # the quality indicators, built from the indicator table
        files["profiles"][Path(f"Measure-{measure['id']}.json")] = _canonical_json(measure)
    facts = nnrr_facts_library()
    files["profiles"][Path(f"Library-{facts['id']}.json")] = _canonical_json(facts)
    return files


def differences(files: dict[str, dict[Path, str]]) -> list[str]:
    """What differs between ``files`` and what is committed (missing, changed, stale)."""
    found: list[str] = []
    for kind, folder in TARGETS.items():
        wanted = files[kind]
        present = {Path(p.name) for p in folder.glob("*.json")} if folder.is_dir() else set()
        for name in sorted(set(wanted) | present):
            path = folder / name
            if name not in wanted:
                found.append(f"stale: {path.relative_to(ROOT)}")
            elif name not in present:
                found.append(f"missing: {path.relative_to(ROOT)}")
            elif path.read_text(encoding="utf-8") != wanted[name]:
                found.append(f"changed: {path.relative_to(ROOT)}")
    return found


def write(files: dict[str, dict[Path, str]]) -> None:
    for kind, folder in TARGETS.items():
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.json"):
            if Path(old.name) not in files[kind]:
                old.unlink()
        for name, text in files[kind].items():
            (folder / name).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report whether profiles/ is stale; write nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ryggrad-ig-") as tmp:
        files = compile_ig(Path(tmp))
    if args.check:
        stale = differences(files)
        for line in stale:
            print(line)
        if stale:
            print("profiles/ is stale against ig/: run `make profiles`")
        return 1 if stale else 0
    write(files)
    counts = ", ".join(f"{len(files[k])} in {v.relative_to(ROOT)}" for k, v in TARGETS.items())
    print(f"wrote {counts}")
    return 0


if __name__ == "__main__":
    if shutil.which("node") is None:
        sys.exit("Node.js is needed to compile the Implementation Guide")
    sys.exit(main())
