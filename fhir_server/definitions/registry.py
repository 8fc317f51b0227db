"""The FHIR definitions the server works from: the R4 core package plus the project's own conformance package.

Start-up reads only the packages' ``.index.json`` files (a few milliseconds); each resource file is parsed with
orjson the first time it is asked for. Later package folders override earlier ones by canonical URL, so the
project's ``profiles/`` can replace or add StructureDefinitions, ValueSets, SearchParameters, ...

Returned resources are shared, cached objects: treat them as read-only.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.definitions.package_cache import PackageUnavailable, package_dir
from fhir_server.definitions.package_index import IndexEntry, read_package_index, strip_version
from fhir_server.definitions.terminology import CodePairs, ValueSetExpander

if TYPE_CHECKING:
    from fhir_server.settings import Settings

log = logging.getLogger(__name__)

CORE_BASE = "http://hl7.org/fhir/StructureDefinition/"
RESOURCE_BASES = ("Resource", "DomainResource")


class _LruCache:
    """A small thread-safe LRU of parsed resource files (big StructureDefinitions are ~0.4 MB in memory)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def _read(entry: IndexEntry) -> dict[str, Any] | None:
    try:
        resource = orjson.loads(Path(entry.file).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        log.warning("cannot read definition %s: %s", entry.file, exc)
        return None
    return resource if isinstance(resource, dict) else None


class Definitions:
    """Lazy, read-only access to the conformance resources of one or more package folders."""

    def __init__(self, entries: list[IndexEntry], package_dirs: tuple[Path, ...] = (), cache_size: int = 32):
        self.package_dirs = package_dirs
        by_url: dict[tuple[str, str], IndexEntry] = {}
        for entry in sorted(entries, key=lambda e: e.package_order):  # stable: file order kept within a folder
            if entry.url:
                by_url[(entry.resource_type, entry.url)] = entry
        by_type: dict[str, list[IndexEntry]] = defaultdict(list)
        for entry in entries:
            if entry.url and by_url[(entry.resource_type, entry.url)] is not entry:
                continue  # overridden by a later package
            by_type[entry.resource_type].append(entry)
        self._by_url = by_url
        self._by_type = dict(by_type)
        self._cache = _LruCache(cache_size)
        self._expander = ValueSetExpander(self.value_set, self.code_system)
        self._lock = threading.Lock()
        self._search_parameters: dict[str, list[dict[str, Any]]] | None = None

    # -- single resources -------------------------------------------------------------------------------------

    def _load(self, entry: IndexEntry) -> dict[str, Any] | None:
        resource = self._cache.get(entry.file)
        if resource is None:
            resource = _read(entry)
            if resource is not None:
                self._cache.put(entry.file, resource)
        return resource

    def resource(self, resource_type: str, url: str) -> dict[str, Any] | None:
        """The conformance resource of that type with that canonical URL (a ``|version`` suffix is ignored)."""
        entry = self._by_url.get((resource_type, strip_version(url)))
        return None if entry is None else self._load(entry)

    def structure_definition(self, url_or_type: str) -> dict[str, Any] | None:
        """A StructureDefinition by canonical URL, or by type name (``Patient`` → the core ``Patient`` SD)."""
        url = url_or_type if ":" in url_or_type else CORE_BASE + url_or_type
        return self.resource("StructureDefinition", url)

    def value_set(self, url: str) -> dict[str, Any] | None:
        return self.resource("ValueSet", url)

    def code_system(self, url: str) -> dict[str, Any] | None:
        return self.resource("CodeSystem", url)

    def has_resource(self, resource_type: str, url: str) -> bool:
        return (resource_type, strip_version(url)) in self._by_url

    # -- collections ------------------------------------------------------------------------------------------

    def resources_of_type(self, resource_type: str) -> Iterator[dict[str, Any]]:
        """Every resource of that type (after overrides), parsed one by one and not kept in the cache."""
        for entry in self._by_type.get(resource_type, ()):
            resource = self._cache.get(entry.file) or _read(entry)
            if resource is not None:
                yield resource

    def count_of_type(self, resource_type: str) -> int:
        return len(self._by_type.get(resource_type, ()))

    @cached_property
    def _resource_type_bases(self) -> dict[str, str]:
        """Concrete resource type → the type it specialises (``DomainResource`` or ``Resource``)."""
        bases: dict[str, str] = {}
        for entry in self._by_type.get("StructureDefinition", ()):
            if entry.kind not in (None, "resource"):
                continue
            if entry.type and entry.url and not entry.url.endswith("/" + entry.type):
                continue  # a profile: its URL is not the type's own
            sd = self._cache.get(entry.file) or _read(entry)  # parsed once, not cached: ~150 large files
            if (
                sd is None
                or sd.get("kind") != "resource"
                or sd.get("derivation") != "specialization"
                or sd.get("abstract") is True
                or not isinstance(sd.get("type"), str)
            ):
                continue
            bases[sd["type"]] = str(sd.get("baseDefinition", "")).rsplit("/", 1)[-1]
        return bases

    @cached_property
    def resource_types(self) -> frozenset[str]:
        """All concrete resource types (kind=resource, derivation=specialization, abstract=false)."""
        return frozenset(self._resource_type_bases)

    def base_types_of_kind(self, kind: str) -> frozenset[str]:
        """Types whose own (non-profile) StructureDefinition has that kind, e.g. ``primitive-type`` (index only)."""
        return frozenset(
            entry.type
            for entry in self._by_type.get("StructureDefinition", ())
            if entry.kind == kind and entry.type and entry.url == CORE_BASE + entry.type
        )

    def is_domain_resource(self, resource_type: str) -> bool:
        return self._resource_type_bases.get(resource_type) == "DomainResource"

    def search_parameters(self, resource_type: str) -> list[dict[str, Any]]:
        """SearchParameters applying to a type: its own plus those on ``Resource`` (and ``DomainResource``).

        One parameter per ``code``: a later package overrides an earlier one, and a non-experimental parameter
        wins over an experimental one (the core package ships example SearchParameters that duplicate ``_id`` on
        Resource and ``subject`` on Condition).
        """
        by_base = self._search_parameters_by_base()
        bases = [resource_type, "Resource"]
        if resource_type in RESOURCE_BASES or self.is_domain_resource(resource_type):
            bases.append("DomainResource")
        chosen: dict[str, dict[str, Any]] = {}
        for base in ("Resource", "DomainResource", resource_type):
            if base not in bases:
                continue
            for parameter in by_base.get(base, ()):
                code = parameter.get("code")
                if not isinstance(code, str):
                    continue
                current = chosen.get(code)
                if current is None or not (parameter.get("experimental") is True and not current.get("experimental")):
                    chosen[code] = parameter
        return list(chosen.values())

    def _search_parameters_by_base(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            if self._search_parameters is None:
                by_base: dict[str, list[dict[str, Any]]] = defaultdict(list)
                entries = sorted(self._by_type.get("SearchParameter", ()), key=lambda e: e.package_order)
                for entry in entries:
                    parameter = _read(entry)
                    if parameter is None:
                        continue
                    for base in parameter.get("base") or ():
                        if isinstance(base, str):
                            by_base[base].append(parameter)
                self._search_parameters = dict(by_base)
            return self._search_parameters

    # -- terminology ------------------------------------------------------------------------------------------

    def expand_value_set(self, url: str) -> CodePairs | None:
        """The (system, code) pairs of an enumerable ValueSet, or ``None`` (see ``terminology``). Cached."""
        with self._lock:
            return self._expander.expand(url)

    def code_system_codes(self, url: str) -> frozenset[str] | None:
        """All codes of a complete CodeSystem in the packages, or ``None``. Cached."""
        with self._lock:
            return self._expander.code_system_codes(url)


def load_definitions(package_dirs: list[Path]) -> Definitions:
    """Index the package folders (in override order: later folders win by canonical URL)."""
    entries: list[IndexEntry] = []
    for order, folder in enumerate(package_dirs):
        if not folder.is_dir():
            raise FileNotFoundError(f"FHIR package folder not found: {folder}")
        entries.extend(read_package_index(folder, order))
    return Definitions(entries, tuple(package_dirs))


@lru_cache(maxsize=4)
def _cached_definitions(package_dirs: tuple[Path, ...]) -> Definitions:
    return load_definitions(list(package_dirs))


def default_definitions(settings: Settings | None = None) -> Definitions:
    """The core R4 package from the FHIR package cache, plus ``profiles/`` when it exists (cached per folders)."""
    if settings is None:
        from fhir_server.settings import get_settings

        settings = get_settings()
    core = package_dir(settings.fhir_package_cache)
    if not core.is_dir():
        raise PackageUnavailable(
            f"the FHIR R4 core package is not installed at {core} (install it with ensure_core_package)"
        )
    folders = [core.resolve()]
    if settings.profiles_dir.is_dir():
        folders.append(settings.profiles_dir.resolve())
    return _cached_definitions(tuple(folders))
