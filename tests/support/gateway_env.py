"""Gateway settings every shared test gateway uses, and logging in to one."""

from __future__ import annotations

from typing import Any

import aiohttp

# The admin every shared gateway creates on its first start, and the secret its tokens are
# signed with (tests check that neither reaches the logs).
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "test-admin-password"
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"

# Every test talks from 127.0.0.1 and many log in with a wrong password on purpose: the
# shared gateways must not lock the run out. The throttle itself is tested in tests/abuse
# with a gateway and database of its own.
UNTHROTTLED_LOGIN: dict[str, int] = {
    "GATEWAY_LOGIN_MAX_FAILURES": 1_000_000,
    "GATEWAY_LOGIN_ADDRESS_MAX_FAILURES": 1_000_000,
    "GATEWAY_LOGIN_DELAY": 0,  # no growing delay between failures either
}


def gateway_env(env: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """`env` plus what a test gateway needs: ephemeral ports, the test admin and JWT secret,
    and an unthrottled login."""
    return {
        **env,
        **UNTHROTTLED_LOGIN,
        "GATEWAY_PORT": 0,
        "GATEWAY_OPS_PORT": 0,
        "ADMIN_USERNAME": ADMIN_USERNAME,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "JWT_SECRET": JWT_SECRET,
        **overrides,
    }


async def login(
    http: aiohttp.ClientSession, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD
) -> dict[str, str]:
    """POST /auth/login; the Authorization header the token makes."""
    async with http.post("/auth/login", json={"username": username, "password": password}) as r:
        assert r.status == 200, await r.text()
        return {"Authorization": f"Bearer {(await r.json())['token']}"}
