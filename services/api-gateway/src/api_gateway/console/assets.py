"""The console's static files, served from the package with the console's headers."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web
from shared.errors import not_found

from api_gateway.console.security import with_security_headers

STATIC = Path(__file__).parent / "static"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def _asset(relative: str) -> Path:
    """A file under static/, never outside it (`..` and absolute paths resolve elsewhere)."""
    root = STATIC.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise not_found("ASSET_NOT_FOUND", "no such console file")
    return candidate


def _file(path: Path) -> web.StreamResponse:
    content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    response = web.FileResponse(
        path,
        headers={
            "Content-Type": content_type or "application/octet-stream",
            # Revalidated each load (Last-Modified): a new gateway version shows at once.
            "Cache-Control": "no-cache",
        },
    )
    with_security_headers(response)
    return response


async def index(_: web.Request) -> web.StreamResponse:
    return _file(_asset("index.html"))


async def asset(request: web.Request) -> web.StreamResponse:
    return _file(_asset(request.match_info["path"]))


async def redirect_to_index(_: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/console/")
