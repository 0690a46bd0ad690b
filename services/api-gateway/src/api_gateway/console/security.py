"""Console sessions and the rules every console response follows.

The session is the gateway's own JWT in the `token` cookie (HttpOnly, SameSite=Strict), so
page scripts never see it and the public API accepts it as it is. Only project super
admins get one: the console shows the whole fleet."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler
from shared.errors import AppError, ErrorStatus

from api_gateway.accounts import Identity
from api_gateway.auth import require
from api_gateway.keys import AUTHENTICATOR
from api_gateway.permissions import Permission

COOKIE = "token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# No inline script or style anywhere: every script and sheet is a file from this origin.
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def with_security_headers(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.update(SECURITY_HEADERS)
    return response


async def console_identity(request: web.Request) -> Identity:
    """The caller, who must be a project super admin (401 without a session, 403 else)."""
    identity = await request.app[AUTHENTICATOR].identify(request)
    require(identity, Permission.PROJECT_SUPER_ADMIN)
    return identity


def _own_host(request: web.Request) -> str:
    return request.host.lower()


@web.middleware
async def cookie_origin_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A state-changing request that relies on the session cookie must come from a page of
    this origin. SameSite=Strict already keeps the cookie off cross-site requests; this also
    refuses other origins of the same site (sibling subdomains, other ports)."""
    if (
        request.method not in SAFE_METHODS
        and COOKIE in request.cookies
        and "Authorization" not in request.headers
    ):
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc.lower() != _own_host(request):
            raise AppError(
                ErrorStatus.PERMISSION_DENIED,
                "CROSS_ORIGIN_REQUEST",
                "a request carrying the session cookie must come from this origin",
            )
    return await handler(request)
