"""The one FhirServer a worker process shares among its task threads."""

from __future__ import annotations

import threading

from fhir_server.server import FhirServer
from fhir_server.settings import get_settings

_server: FhirServer | None = None
_lock = threading.Lock()


def server() -> FhirServer:
    global _server
    with _lock:
        if _server is None:
            _server = FhirServer(get_settings())
        return _server
