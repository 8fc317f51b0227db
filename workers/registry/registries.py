"""The registries a server's conformance package defines, read once per server."""

from __future__ import annotations

import threading
from typing import Any
from weakref import WeakKeyDictionary

from workers.registry.definitions import RegistryDefinition, registry_definitions

_cache: WeakKeyDictionary[Any, dict[str, RegistryDefinition]] = WeakKeyDictionary()
_lock = threading.Lock()


def registries(server: Any) -> dict[str, RegistryDefinition]:
    with _lock:
        found = _cache.get(server)
        if found is None:
            found = registry_definitions(server.definitions)
            _cache[server] = found
        return found
