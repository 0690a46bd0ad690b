"""Failed logins are throttled per username and per client address, in PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest
from api_gateway.app import GatewayApp
from sqlalchemy import text

from tests.abuse.conftest import ISOLATED_ADMIN_PASSWORD, cli_account

PASSWORD = "right-password-123"
WRONG = "wrong-password-123"


async def _login(
    http: aiohttp.ClientSession, username: str, password: str
) -> aiohttp.ClientResponse:
    async with http.post("/auth/login", json={"username": username, "password": password}) as r:
        await r.read()
        return r


async def _age_window(gateway: GatewayApp, key: str, seconds: int) -> None:
    """Make a key's window start `seconds` ago, as if that much time had passed."""
    async with gateway.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE api_gateway.login_failures "
                "SET window_start = window_start - make_interval(secs => :s) WHERE key = :k"
            ),
            {"s": seconds, "k": key},
        )


async def _clear_address(gateway: GatewayApp) -> None:
    async with gateway.engine.begin() as conn:
        await conn.execute(text("DELETE FROM api_gateway.login_failures WHERE key LIKE 'addr:%'"))


@pytest.fixture(autouse=True)
async def _fresh_address(isolated_gateway: GatewayApp) -> None:
    """Each test starts with the loopback address unthrottled (user keys are per test)."""
    await _clear_address(isolated_gateway)


async def test_five_failures_lock_the_account_even_for_the_right_password(
    iso_http: aiohttp.ClientSession, isolated_gateway: GatewayApp, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    for _ in range(5):
        assert (await _login(iso_http, user, WRONG)).status == 401
    refused = await _login(iso_http, user, PASSWORD)
    assert refused.status == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 800 < retry_after <= 900
    async with iso_http.post("/auth/login", json={"username": user, "password": PASSWORD}) as r:
        body: dict[str, Any] = await r.json()
    assert body["error"]["reason"] == "TOO_MANY_LOGIN_ATTEMPTS"
    # Once the 15-minute window has passed, the right password works again.
    await _age_window(isolated_gateway, f"user:{user}", 901)
    await _clear_address(isolated_gateway)
    assert (await _login(iso_http, user, PASSWORD)).status == 200


async def test_a_success_resets_the_username_count(
    iso_http: aiohttp.ClientSession, isolated_gateway: GatewayApp, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    for _ in range(4):
        assert (await _login(iso_http, user, WRONG)).status == 401
    assert (await _login(iso_http, user, PASSWORD)).status == 200
    await _clear_address(isolated_gateway)
    for _ in range(5):
        assert (await _login(iso_http, user, WRONG)).status == 401
    assert (await _login(iso_http, user, WRONG)).status == 429


async def test_one_address_spraying_many_usernames_is_throttled(
    iso_http: aiohttp.ClientSession, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    for _ in range(5):
        missing = f"nobody-{uuid.uuid4().hex[:8]}"
        assert (await _login(iso_http, missing, WRONG)).status == 401
    # A username never tried before, the right password: the address is over its limit.
    assert (await _login(iso_http, user, PASSWORD)).status == 429


async def test_parallel_guesses_get_at_most_five_password_checks(
    iso_http: aiohttp.ClientSession, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    answers = await asyncio.gather(*(_login(iso_http, user, WRONG) for _ in range(20)))
    statuses = sorted(r.status for r in answers)
    assert statuses.count(401) == 5 and statuses.count(429) == 15, statuses


async def test_a_deeply_nested_body_is_a_400(iso_http: aiohttp.ClientSession) -> None:
    deep = b"[" * 200_000
    async with iso_http.post(
        "/auth/login", data=deep, headers={"Content-Type": "application/json"}
    ) as resp:
        body: dict[str, Any] = await resp.json()
        assert resp.status == 400, body  # was a 500 with a RecursionError
    assert "Traceback" not in str(body) and "Recursion" not in str(body)
    async with iso_http.post(
        "/auth/login", json={"username": "admin", "password": ISOLATED_ADMIN_PASSWORD}
    ) as resp:
        token = (await resp.json())["token"]
    async with iso_http.post(
        "/v1.0/providers",
        data=deep,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    ) as resp:
        body = await resp.json()
        assert resp.status == 400, body
    assert body["error"]["reason"] == "JSON_TOO_DEEP"
    nested: Any = "x"
    for _ in range(40):
        nested = {"a": nested}
    async with iso_http.post("/auth/login", json={"username": nested}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["reason"] == "JSON_TOO_DEEP"


async def test_an_over_long_login_body_is_a_400(iso_http: aiohttp.ClientSession) -> None:
    body = {"username": "x", "password": "y", "padding": "z" * 10_000}
    async with iso_http.post("/auth/login", json=body) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["reason"] == "BODY_TOO_LONG"
