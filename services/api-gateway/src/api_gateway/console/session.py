"""/console/api/session: sign in (sets the cookie), who am I, sign out (clears it).

Unlike POST /auth/login, the token is never in a body the page can read: a script
injected into the page could not carry the session away."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import structlog
from aiohttp import web
from prometheus_client import Counter
from shared.contracts.validation import parse_body
from shared.errors import AppError, ErrorStatus

from api_gateway.accounts import Identity
from api_gateway.console.security import COOKIE, console_identity
from api_gateway.http import read_json, reply
from api_gateway.keys import ACCOUNTS, AUTHENTICATOR, ISSUER, SETTINGS
from api_gateway.permissions import Permission
from api_gateway.views.login import MAX_LOGIN_BODY, LoginRequest
from api_gateway.views.login import _checked_login as checked_login

log = structlog.get_logger("gateway.console")

CONSOLE_LOGINS = Counter("console_logins_total", "Console sign-in attempts by outcome", ["outcome"])


def _me(identity: Identity) -> dict[str, str]:
    return {"username": identity.username, "account_id": identity.account_id}


async def sign_in(request: web.Request) -> web.StreamResponse:
    body = parse_body(LoginRequest, await read_json(request, MAX_LOGIN_BODY))
    try:
        # The same throttled check as POST /auth/login: the console is no way around it.
        account = await checked_login(request, body.username, body.password)
    except AppError as err:
        CONSOLE_LOGINS.labels(err.reason.lower()).inc()
        raise
    if not Permission(account["permission"]) & Permission.PROJECT_SUPER_ADMIN:
        CONSOLE_LOGINS.labels("not_admin").inc()
        raise AppError(
            ErrorStatus.PERMISSION_DENIED,
            "PERMISSION_DENIED",
            "the console is for project super admins only",
        )
    token = request.app[ISSUER].issue(account)
    response = reply({"username": account["username"], "account_id": account["id"]})
    response.set_cookie(
        COOKIE,
        token,
        max_age=request.app[SETTINGS].jwt_expiry_seconds,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    CONSOLE_LOGINS.labels("ok").inc()
    log.info("console_sign_in", username=account["username"])
    return response


async def whoami(request: web.Request) -> web.StreamResponse:
    return reply(_me(await console_identity(request)))


async def sign_out(request: web.Request) -> web.StreamResponse:
    """Revokes the session's token (as POST /auth/logout does) and clears the cookie; with
    no valid session there is nothing to revoke, and the cookie is cleared all the same."""
    claims = None
    with contextlib.suppress(AppError):
        claims = request.app[AUTHENTICATOR].token_claims(request)
    if claims is not None and "jti" in claims:
        expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
        await request.app[ACCOUNTS].revoke_token(str(claims["jti"]), expires)
        request.app[AUTHENTICATOR].forget()
    response = web.json_response({"signed_out": True})
    response.del_cookie(COOKIE, path="/")
    return response
