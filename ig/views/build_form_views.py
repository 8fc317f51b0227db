"""``make profiles`` (after the IG): the registry forms' flat datasets, generated from their Questionnaires in
``profiles/``.

- ``mappings/views/forms/<name>.json``: one SQL-on-FHIR ViewDefinition per form (``form_views.py`` says how items
  become columns). They sit in a folder of their own, so the indicators' materialized views (the ``*.json`` directly
  in ``mappings/views/``) are not joined by them: they are run on request (``ViewDefinition/$run``,
  ``ryggrad export``), not kept as tables.
- ``mappings/views/dictionary/dictionary.md`` and ``dictionary.csv``: the data dictionary of those views.

A new version of a Questionnaire in ``profiles/`` regenerates its view. ``--check`` writes nothing and reports
whether the committed files are stale. Needs no Node.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from form_views import form_view

from fhir_server.datasets.dictionary import csv_text, dictionary, markdown

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"
VIEWS = ROOT / "mappings" / "views" / "forms"
DICTIONARY = ROOT / "mappings" / "views" / "dictionary"
#: The registry forms, in the order the dictionary lists them.
FORMS = (
    "nnrr-pre-consultation",
    "nnrr-clinician",
    "nnrr-follow-up-6m",
    "nnrr-follow-up-12m",
    "opr-baseline",
    "opr-short-baseline",
    "opr-follow-up",
)


def _json(resource: dict) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def build(profiles: Path = PROFILES) -> dict[Path, str]:
    """Path -> text of every file to write."""
    views = {}
    for key in FORMS:
        questionnaire = json.loads((profiles / f"Questionnaire-{key}.json").read_text(encoding="utf-8"))
        view = form_view(questionnaire)
        views[view["name"]] = view
    files = {VIEWS / f"{name}.json": _json(view) for name, view in views.items()}
    entries = dictionary(views)
    files[DICTIONARY / "dictionary.md"] = markdown(entries, views)
    files[DICTIONARY / "dictionary.csv"] = csv_text(entries)
    return files


def stale(files: dict[Path, str]) -> list[str]:
    found = []
    for folder, pattern in ((VIEWS, "*.json"), (DICTIONARY, "dictionary.*")):
        present = set(folder.glob(pattern)) if folder.is_dir() else set()
        wanted = {p for p in files if p.parent == folder}
        for path in sorted(present | wanted):
            if path not in wanted:
                found.append(f"stale: {path.relative_to(ROOT)}")
            elif path not in present:
                found.append(f"missing: {path.relative_to(ROOT)}")
            elif path.read_text(encoding="utf-8") != files[path]:
                found.append(f"changed: {path.relative_to(ROOT)}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report whether the committed files are stale")
    args = parser.parse_args(argv)
    files = build()
    if args.check:
        found = stale(files)
        for line in found:
            print(line)
        if found:
            print("the form views are stale against profiles/: run `make profiles`")
        return 1 if found else 0
    for folder, pattern in ((VIEWS, "*.json"), (DICTIONARY, "dictionary.*")):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(pattern):
            if old not in files:
                old.unlink()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files in {VIEWS.relative_to(ROOT)} and {DICTIONARY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
