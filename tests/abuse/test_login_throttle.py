"""Failed logins are throttled per username and per client address, in PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from api_gateway.app import GatewayApp
from sqlalchemy import text

from tests.support.isolated_stack import ISOLATED_ADMIN_PASSWORD, cli_account

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


async def _delay_passes(gateway: GatewayApp) -> None:
    """As if every key's delay had run out (the window goes on)."""
    async with gateway.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE api_gateway.login_failures SET next_attempt = statement_timestamp() "
                "WHERE next_attempt > statement_timestamp()"
            )
        )


async def _failures(gateway: GatewayApp, key: str) -> int | None:
    async with gateway.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT failures FROM api_gateway.login_failures WHERE key = :k"), {"k": key}
        )
        return found.scalar_one_or_none()


async def _fail(http: aiohttp.ClientSession, gateway: GatewayApp, user: str, times: int) -> None:
    """`times` wrong passwords, each after the delay of the one before."""
    for _ in range(times):
        await _delay_passes(gateway)
        assert (await _login(http, user, WRONG)).status == 401


def _retry_after(response: aiohttp.ClientResponse) -> int:
    assert response.status == 429
    return int(response.headers["Retry-After"])


@pytest.fixture(autouse=True)
async def _fresh_address(isolated_gateway: GatewayApp) -> AsyncIterator[None]:
    """Each test starts with the loopback address unthrottled (user keys are per test), and
    leaves it so for the other modules' logins."""
    await _clear_address(isolated_gateway)
    yield
    await _clear_address(isolated_gateway)


async def test_five_failures_lock_the_account_even_for_the_right_password(
    iso_http: aiohttp.ClientSession, isolated_gateway: GatewayApp, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    await _fail(iso_http, isolated_gateway, user, 5)
    await _delay_passes(isolated_gateway)
    refused = await _login(iso_http, user, PASSWORD)
    assert 800 < _retry_after(refused) <= 900
    async with iso_http.post("/auth/login", json={"username": user, "password": PASSWORD}) as r:
        body: dict[str, Any] = await r.json()
    assert body["error"]["reason"] == "TOO_MANY_LOGIN_ATTEMPTS"
    # Once the 15-minute window has passed, the right password works again.
    await _age_window(isolated_gateway, f"user:{user}", 901)
    await _clear_address(isolated_gateway)
    assert (await _login(iso_http, user, PASSWORD)).status == 200


async def test_the_delay_after_each_failure_doubles(
    iso_http: aiohttp.ClientSession, isolated_gateway: GatewayApp, isolated_database: str
) -> None:
    """GATEWAY_LOGIN_DELAY=60: after the 2nd failure the next attempt waits 60 s, after the
    3rd 120 s, after the 4th 240 s; after the 5th the lockout holds for the window. Attempts
    held back by a delay are not counted: five guesses are still five."""
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    assert (await _login(iso_http, user, WRONG)).status == 401
    assert (await _login(iso_http, user, WRONG)).status == 401  # no delay after the 1st
    for failures, delay in ((2, 60), (3, 120), (4, 240)):
        for _ in range(3):
            assert delay - 30 < _retry_after(await _login(iso_http, user, WRONG)) <= delay
        assert await _failures(isolated_gateway, f"user:{user}") == failures
        await _delay_passes(isolated_gateway)
        assert (await _login(iso_http, user, WRONG)).status == 401
    # The 5th failure: the right password waits for the rest of the window, delay or not.
    assert 800 < _retry_after(await _login(iso_http, user, PASSWORD)) <= 900
    await _delay_passes(isolated_gateway)
    assert 800 < _retry_after(await _login(iso_http, user, PASSWORD)) <= 900


async def test_the_right_password_waits_for_the_delay_then_works(
    iso_http: aiohttp.ClientSession, isolated_gateway: GatewayApp, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    await _fail(iso_http, isolated_gateway, user, 2)
    async with iso_http.post("/auth/login", json={"username": user, "password": PASSWORD}) as r:
        body: dict[str, Any] = await r.json()
        assert 30 < _retry_after(r) <= 60
    assert body["error"]["reason"] == "TOO_MANY_LOGIN_ATTEMPTS" and "token" not in body
    await _delay_passes(isolated_gateway)
    assert (await _login(iso_http, user, PASSWORD)).status == 200


async def test_a_success_resets_the_username_count(
    iso_http: aiohttp.ClientSession, isolated_gateway: GatewayApp, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    await _fail(iso_http, isolated_gateway, user, 4)
    await _delay_passes(isolated_gateway)
    assert (await _login(iso_http, user, PASSWORD)).status == 200
    assert await _failures(isolated_gateway, f"user:{user}") is None
    await _clear_address(isolated_gateway)
    # Counting starts over: two failures without any delay, then the delay, then the limit.
    assert (await _login(iso_http, user, WRONG)).status == 401
    assert (await _login(iso_http, user, WRONG)).status == 401
    assert _retry_after(await _login(iso_http, user, WRONG)) <= 60
    await _fail(iso_http, isolated_gateway, user, 3)
    await _delay_passes(isolated_gateway)
    assert _retry_after(await _login(iso_http, user, WRONG)) > 800


async def test_one_address_spraying_many_usernames_is_throttled(
    iso_http: aiohttp.ClientSession, isolated_gateway: GatewayApp, isolated_database: str
) -> None:
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    for _ in range(5):
        missing = f"nobody-{uuid.uuid4().hex[:8]}"
        await _fail(iso_http, isolated_gateway, missing, 1)
    # A username never tried before, the right password: the address is over its limit.
    await _delay_passes(isolated_gateway)
    assert _retry_after(await _login(iso_http, user, PASSWORD)) > 800


async def test_one_address_spraying_many_usernames_is_delayed(
    iso_http: aiohttp.ClientSession, isolated_gateway: GatewayApp, isolated_database: str
) -> None:
    """Each username fails once only (no delay of its own); the address's second failure
    delays its next attempt, whichever username it names."""
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    for _ in range(2):
        assert (await _login(iso_http, f"nobody-{uuid.uuid4().hex[:8]}", WRONG)).status == 401
    assert 30 < _retry_after(await _login(iso_http, user, PASSWORD)) <= 60
    assert 30 < _retry_after(await _login(iso_http, f"new-{uuid.uuid4().hex[:8]}", WRONG)) <= 60
    assert await _failures(isolated_gateway, f"user:{user}") is None  # nothing counted
    await _delay_passes(isolated_gateway)
    assert (await _login(iso_http, user, PASSWORD)).status == 200


async def test_parallel_guesses_get_two_password_checks(
    iso_http: aiohttp.ClientSession, isolated_database: str
) -> None:
    """The first guess sets no delay; the second holds the key back while its password is
    checked, so the other 18 are refused unchecked (without the delay: five checks)."""
    user = await cli_account(isolated_database, PASSWORD, "CustomerAdmin")
    answers = await asyncio.gather(*(_login(iso_http, user, WRONG) for _ in range(20)))
    statuses = sorted(r.status for r in answers)
    assert statuses.count(401) == 2 and statuses.count(429) == 18, statuses


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
