"""POST /auth/login."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from shared.contracts.validation import parse_body
from shared.errors import AppError, ErrorStatus

from api_gateway.http import read_json, reply
from api_gateway.keys import ACCOUNTS, ISSUER, SETTINGS


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    username: str
    token: str


async def login(request: web.Request) -> web.StreamResponse:
    body = parse_body(LoginRequest, await read_json(request))
    account = await request.app[ACCOUNTS].verify_login(body.username, body.password)
    if account is None:
        raise AppError(
            ErrorStatus.UNAUTHENTICATED, "INVALID_CREDENTIALS", "wrong username or password"
        )
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
