"""A study's flat datasets written to a folder: one file per view, run as the study's researcher through the same
code as ``ViewDefinition/$run`` (``source.view_rows``: the server's own search, as the caller), and the data
dictionary of the views written.

    views = study_views(server, principal, "study-1", names=["form_nnrr_pre_consultation"])
    written = export(server, principal, views, "parquet", Path("out"))   # [Written(view, path, rows)], dictionary

``ryggrad export`` runs it with a researcher principal for the study; whatever that researcher may not see (other
patients, identifiers, exact dates) is not in the files, because it never comes out of search for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fhir_server.datasets.catalogue import all_views, find_view, form_views
from fhir_server.datasets.dictionary import csv_text, dictionary, markdown
from fhir_server.datasets.formats import EXTENSIONS, encode
from fhir_server.datasets.source import check_caller, view_rows

if TYPE_CHECKING:
    from fhir_server.auth.principal import Principal
    from fhir_server.server import FhirServer

#: the extension a data release (ResearchStudy) names each of its released views by (canonical URL)
RELEASED_VIEW = "https://ryggrad.no/fhir/StructureDefinition/released-view"
FILE_FORMATS = ("csv", "parquet", "ndjson", "json")


class ExportError(ValueError):
    """The views asked for are not offered, or not released for the study."""


@dataclass(frozen=True)
class Written:
    view: str
    path: Path
    rows: int


def released_views(server: FhirServer, principal: Principal | None, study: str) -> list[str] | None:
    """The canonical URLs of the views the study's data release lists (None: it lists none, or cannot be read);
    for a researcher, only while the release grants them access."""
    from fhir_server.research.access import research_access
    from fhir_server.storage.store import ResourceStore

    with server.db.reading() as conn:
        if principal is not None and principal.role == "researcher":
            release = research_access(server, conn, study).release
            return list(release.views) if release is not None and release.views else None
        found = ResourceStore(conn).current("ResearchStudy", study)
        content = found.content if found is not None and not found.deleted else {}
    extensions = (content or {}).get("extension") or []
    urls = [e.get("valueCanonical") for e in extensions if isinstance(e, dict) and e.get("url") == RELEASED_VIEW]
    return [str(url) for url in urls if url] or None


def study_views(
    server: FhirServer, principal: Principal | None, study: str, names: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """The views to export for ``study``: its released views (``names`` choosing among them), or — for a study that
    lists none — the views ``names`` asks for, else every form view. ExportError for an unknown or unreleased one."""
    views_dir = server.settings.views_dir
    released = released_views(server, principal, study)
    if released is not None:
        offered: dict[str, dict[str, Any]] = {}
        for url in released:
            view = find_view(views_dir, url)
            if view is None:
                raise ExportError(f"study {study} releases {url}, which this server does not have")
            offered[view["name"]] = view
    else:
        offered = all_views(views_dir) if names else form_views(views_dir)
    if not names:
        return dict(offered)
    chosen: dict[str, dict[str, Any]] = {}
    for name in names:
        view = find_view(views_dir, name)
        if view is None or view["name"] not in offered:
            why = "is not released for the study" if view is not None else "is not a view of this server"
            raise ExportError(f"{name} {why}")
        chosen[view["name"]] = view
    return chosen


def export(
    server: FhirServer, principal: Principal | None, views: dict[str, dict[str, Any]], form: str, folder: Path
) -> list[Written]:
    """Write each view's rows to ``folder/<name>.<form>`` and the dictionary of ``views`` beside them
    (``dictionary.md``, ``dictionary.csv``); the files written. FhirError when the caller may not search."""
    if form not in FILE_FORMATS:
        raise ExportError(f"the format is one of {', '.join(FILE_FORMATS)}, not {form!r}")
    check_caller(principal)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Written] = []
    for name, view in views.items():
        columns, rows = view_rows(server, principal, view)
        kept = list(rows)
        path = folder / f"{name}.{EXTENSIONS[form]}"
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(encode(kept, columns, form, view))
        partial.replace(path)  # a file is there whole or not at all
        written.append(Written(name, path, len(kept)))
    entries = dictionary(views)
    (folder / "dictionary.md").write_text(markdown(entries, views), encoding="utf-8")
    (folder / "dictionary.csv").write_text(csv_text(entries), encoding="utf-8")
    return written
