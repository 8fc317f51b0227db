"""The patient portal's pages at ``/portal`` and the clinicians' pages at ``/clinic``: the Vite build of ``portal/``
(``make portal``; two entries, ``index.html`` and ``clinic.html``), served by the API process from ``portal/dist``
(``RYGGRAD_PORTAL_DIST`` elsewhere).

Files are served as they are; any other page path (``/portal/oppgaver``, ``/portal/oppgave/123``) gets
``index.html`` (under ``/clinic``: ``clinic.html``), where the pages' own router takes over. Built assets (both
entries load theirs from ``/portal/assets/``) carry a content hash in their names and are cached for good; the page
itself is revalidated each time. Without a build, every page path answers 503 with a page that says how to build it.
``config.json`` (under either prefix) tells the pages what sign-in the server offers.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from fhir_server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/portal"
CLINIC_PREFIX = "/clinic"
PORTAL_PAGE = "index.html"
CLINIC_PAGE = "clinic.html"
ASSETS = "assets/"
#: The pages load their own scripts, styles and fonts only; FHIRPath runs in a worker started from a blob URL
#: (refero); answers come from this origin's API.
CSP = (
    "default-src 'self'; script-src 'self'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
NOT_BUILT = """<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>Sidene er ikke bygget</title></head>
<body><main>
<h1>Sidene er ikke bygget</h1>
<p>Sidene i <code>portal/</code> er ikke bygget på denne maskinen. Kjør <code>make portal</code>
(eller <code>make run</code>, som også bygger dem) og last siden på nytt.</p>
<p lang="en">The pages have not been built: run <code>make portal</code> and reload.</p>
</main></body></html>
"""


def portal_dist() -> Path:
    return Path(os.environ.get("RYGGRAD_PORTAL_DIST") or ROOT / "portal" / "dist")


class PortalFiles:
    """The built pages, with the fallback to ``page`` (``index.html``, or ``clinic.html``) for the pages' own
    paths."""

    def __init__(self, dist: Path, settings: Settings, page: str = PORTAL_PAGE) -> None:
        self.dist = dist
        self.settings = settings
        self.page = page
        self.files = StaticFiles(directory=dist, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        response = await self._response(scope)
        response.headers.setdefault("content-security-policy", CSP)
        await response(scope, receive, send)

    async def _response(self, scope: Scope) -> Response:
        path = self.files.get_path(scope)
        if path in ("", ".") or path in (PORTAL_PAGE, CLINIC_PAGE):
            path = self.page
        if path == "config.json":
            return JSONResponse({"devLogin": self.settings.auth == "dev"}, headers={"cache-control": "no-store"})
        if not (self.dist / self.page).is_file():
            return HTMLResponse(NOT_BUILT, 503, headers={"cache-control": "no-store", "retry-after": "60"})
        try:
            response = await self.files.get_response(path, scope)
        except HTTPException as missing:
            if missing.status_code != 404 or path.startswith(ASSETS):
                return Response(status_code=missing.status_code, headers={"cache-control": "no-store"})
            path = self.page
            response = await self.files.get_response(path, scope)
        immutable = path.startswith(ASSETS) and response.status_code == 200
        response.headers["cache-control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
        return response


def add_portal(app: FastAPI, settings: Settings, dist: Path | None = None) -> None:
    """Serve the patient portal's pages under ``/portal`` and the clinicians' under ``/clinic``."""
    built = dist or portal_dist()
    app.mount(PREFIX, PortalFiles(built, settings), name="portal")
    app.mount(CLINIC_PREFIX, PortalFiles(built, settings, CLINIC_PAGE), name="clinic")
