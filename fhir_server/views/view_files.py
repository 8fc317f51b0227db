"""The registry's ViewDefinitions as files: one JSON ViewDefinition per file in a folder (settings.views_dir)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from fhir_server.views.errors import ViewDefinitionError
from fhir_server.views.tables import view_name


def load_views(folder: Path) -> dict[str, dict[str, Any]]:
    """View name -> ViewDefinition, for every `*.json` in `folder` (sorted by file name).

    Each file must hold one ViewDefinition with a name usable for its table; two files with the same name are an
    error (ViewDefinitionError naming the files)."""
    views: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    for path in sorted(folder.glob("*.json")):
        view = orjson.loads(path.read_bytes())
        if not isinstance(view, dict) or view.get("resourceType") != "ViewDefinition":
            raise ViewDefinitionError(f"{path} is not a ViewDefinition")
        try:
            name = view_name(view)
        except ViewDefinitionError as exc:
            raise ViewDefinitionError(f"{path}: {exc}") from None
        if name in views:
            raise ViewDefinitionError(f"view {name!r} is defined twice: {origin[name]} and {path}")
        views[name] = view
        origin[name] = path
    return views


@lru_cache(maxsize=8)
def configured_views(folder: Path) -> dict[str, dict[str, Any]]:
    """`load_views(folder)`, read once per process: the configured folder does not change while a server runs, and
    each evaluation would otherwise read and parse every file again."""
    return load_views(folder)
