"""Tokens end on logout, on a password change and on account deletion; short JWT keys are
refused at start."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from api_gateway.settings import Settings as GatewaySettings
from pydantic import ValidationError

from tests.support.isolated_stack import cli_account, gateway_cli
from tests.support.polling import eventually

PASSWORD = "token-password-123"


async def _token(http: aiohttp.ClientSession, username: str, password: str = PASSWORD) -> str:
    async with http.post("/auth/login", json={"username": username, "password": password}) as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])


async def _status(http: aiohttp.ClientSession, token: str) -> int:
    async with http.get("/v1.0/calls", headers={"Authorization": f"Bearer {token}"}) as resp:
        await resp.read()
        # call-manager is not running behind this gateway: 503 means "authenticated".
        return resp.status


async def _reason(http: aiohttp.ClientSession, token: str) -> str:
    async with http.get("/v1.0/calls", headers={"Authorization": f"Bearer {token}"}) as resp:
        body: dict[str, Any] = await resp.json()
        return str(body["error"]["reason"])


async def test_logout_ends_that_token_only(
    iso_http: aiohttp.ClientSession, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    first, second = await _token(iso_http, user), await _token(iso_http, user)
    assert await _status(iso_http, first) != 401
    async with iso_http.post("/auth/logout", headers={"Authorization": f"Bearer {first}"}) as resp:
        assert resp.status == 200, await resp.text()
    assert await _status(iso_http, first) == 401
    assert await _reason(iso_http, first) == "TOKEN_REVOKED"
    assert await _status(iso_http, second) != 401


async def test_a_password_change_ends_earlier_tokens(
    iso_http: aiohttp.ClientSession, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    old = await _token(iso_http, user)
    body = {"password": PASSWORD, "new_password": "a-brand-new-password"}
    async with iso_http.post(
        "/auth/password", json=body, headers={"Authorization": f"Bearer {old}"}
    ) as resp:
        assert resp.status == 200, await resp.text()
        fresh = str((await resp.json())["token"])
    assert await _status(iso_http, old) == 401
    assert await _status(iso_http, fresh) != 401
    assert await _status(iso_http, await _token(iso_http, user, "a-brand-new-password")) != 401
    # A wrong current password changes nothing.
    wrong = {"password": "not-the-password", "new_password": "another-password-1"}
    async with iso_http.post(
        "/auth/password", json=wrong, headers={"Authorization": f"Bearer {fresh}"}
    ) as resp:
        assert resp.status == 401
    assert await _status(iso_http, fresh) != 401


async def test_cli_password_change_and_deletion_end_tokens(
    iso_http: aiohttp.ClientSession, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    token = await _token(iso_http, user)
    assert await _status(iso_http, token) != 401
    done = await asyncio.to_thread(
        gateway_cli,
        isolated_database,
        "password",
        "--username",
        user,
        "--password",
        "cli-new-pass-1",
    )
    assert done.returncode == 0, done.stderr

    async def ended(of: str) -> bool:
        return await _status(iso_http, of) == 401

    await eventually(lambda: ended(token), 5, message="old token refused")
    later = await _token(iso_http, user, "cli-new-pass-1")
    assert await _status(iso_http, later) != 401
    done = await asyncio.to_thread(
        gateway_cli, isolated_database, "delete-account", "--username", user
    )
    assert done.returncode == 0, done.stderr
    await eventually(lambda: ended(later), 5, message="deleted account's token refused")


def test_a_short_jwt_secret_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        GatewaySettings.model_validate({"JWT_SECRET": "too-short-secret"})
    assert GatewaySettings.model_validate({"JWT_SECRET": "x" * 32}).jwt_secret is not None
    assert GatewaySettings.model_validate({}).jwt_secret is None  # random per start
