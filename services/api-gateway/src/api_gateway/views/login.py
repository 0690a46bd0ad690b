"""POST /auth/login, POST /auth/logout, POST /auth/password."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from shared.contracts.validation import parse_body
from shared.errors import AppError, ErrorStatus, invalid_argument
from sqlalchemy import RowMapping

from api_gateway.accounts import Identity
from api_gateway.http import read_json, reply
from api_gateway.keys import ACCOUNTS, AUTHENTICATOR, ISSUER, SETTINGS, THROTTLE

# A login body is two short strings; anything much longer is not a login.
MAX_LOGIN_BODY = 4096


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    username: str
    token: str


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    password: str = Field(min_length=1, max_length=1024, description="the current password")
    new_password: str = Field(min_length=8, max_length=1024)


class LogoutResponse(BaseModel):
    logged_out: bool


def _wrong() -> AppError:
    return AppError(
        ErrorStatus.UNAUTHENTICATED, "INVALID_CREDENTIALS", "wrong username or password"
    )


async def _checked_login(request: web.Request, username: str, password: str) -> RowMapping:
    """The account, after the throttle let the attempt through and the password matched."""
    throttle = request.app[THROTTLE]
    await throttle.attempt(username, request.remote)
    account = await request.app[ACCOUNTS].verify_login(username, password)
    if account is None:
        await throttle.failed(username, request.remote)
        raise _wrong()
    await throttle.succeeded(username, request.remote)
    return account


def _with_token(request: web.Request, account: RowMapping) -> web.Response:
    token = request.app[ISSUER].issue(account)
    response = reply({"username": account["username"], "token": token})
    response.set_cookie(
        "token",
        token,
        max_age=request.app[SETTINGS].jwt_expiry_seconds,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    return response


async def login(request: web.Request) -> web.StreamResponse:
    body = parse_body(LoginRequest, await read_json(request, MAX_LOGIN_BODY))
    return _with_token(request, await _checked_login(request, body.username, body.password))


async def logout(request: web.Request, identity: Identity) -> web.StreamResponse:
    """Ends the token this request carries (other tokens of the account live on)."""
    claims = request.app[AUTHENTICATOR].token_claims(request)
    if claims is None or "jti" not in claims:
        raise invalid_argument("token", "log out with the token to end (access keys are not)")
    expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
    await request.app[ACCOUNTS].revoke_token(str(claims["jti"]), expires)
    request.app[AUTHENTICATOR].forget()
    response = reply({"logged_out": True})
    response.del_cookie("token")
    return response


async def change_password(request: web.Request, identity: Identity) -> web.StreamResponse:
    """The caller's own password; every token issued before ends. Replies a new token."""
    body = parse_body(PasswordChange, await read_json(request, MAX_LOGIN_BODY))
    await _checked_login(request, identity.username, body.password)
    try:
        account = await request.app[ACCOUNTS].change_password(identity.username, body.new_password)
    except ValueError as exc:
        raise invalid_argument("new_password", str(exc)) from None
    request.app[AUTHENTICATOR].forget()
    return _with_token(request, account)
