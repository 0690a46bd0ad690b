"""With PostgreSQL stopped, the API answers 503 UNAVAILABLE with a Retry-After (it was a
500 INTERNAL), from the gateway's own reads and from a service behind RPC alike.

This stops the local cluster for a few seconds: other suites share it, so the outage is
kept short and the cluster is always started again. It lives in a package of its own so
that no package-scoped service of another package is alive with pooled connections the
restart killed; the session's own engines are emptied afterwards for the same reason.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from api_gateway.accounts import AccountStore
from api_gateway.app import GatewayApp
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.gateway_env import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.support.polling import eventually


def _cluster() -> list[str] | None:
    """The pg_ctlcluster arguments of the local cluster, when this machine runs it."""
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").is_dir() else []
    if not versions or shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def _pg(cluster: list[str], action: str, *extra: str) -> None:
    subprocess.run([*cluster, action, *extra], check=True, timeout=60, capture_output=True)


async def _forget_dead_connections() -> None:
    """Every engine of this process drops its pooled connections, which the restart killed:
    later tests then start with fresh ones instead of one 503 each (the honest answer to a
    dead connection, but not what those tests are about)."""
    for engine in [o for o in gc.get_objects() if isinstance(o, AsyncEngine)]:
        if type(engine.sync_engine).__name__ == "Engine":  # not an options view of one
            await engine.dispose()


async def _answer(
    http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, dict[str, Any], str | None]:
    async with http.request(method, path, **kwargs) as resp:
        body: dict[str, Any] = await resp.json()
        return resp.status, body, resp.headers.get("Retry-After")


async def test_database_outage_is_a_503_with_retry_after(
    http: aiohttp.ClientSession,
    gateway: GatewayApp,
    admin_headers: dict[str, str],
    platform_env: dict[str, Any],
) -> None:
    cluster = _cluster()
    host = urlsplit(platform_env["DATABASE_URL"]).hostname
    if cluster is None or host not in ("127.0.0.1", "localhost"):
        pytest.skip("needs the local PostgreSQL cluster and the right to stop it")
    key = await AccountStore(gateway.sessions).create_accesskey(
        ADMIN_USERNAME, "outage", expire=timedelta(hours=1)
    )
    status, _, _ = await _answer(http, "GET", "/v1.0/providers", headers=admin_headers)
    assert status == 200  # the token's account is now cached: the next read goes to RPC
    seen: list[tuple[str, int, dict[str, Any], str | None]] = []
    _pg(cluster, "stop", "-m", "fast")
    stopped_at = time.monotonic()
    try:
        login = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        seen.append(("rpc", *await _answer(http, "GET", "/v1.0/providers", headers=admin_headers)))
        seen.append(("login", *await _answer(http, "POST", "/auth/login", json=login)))
        seen.append(
            ("accesskey", *await _answer(http, "GET", "/v1.0/providers", params={"accesskey": key}))
        )
    finally:
        _pg(cluster, "start")
        await _forget_dead_connections()
    assert time.monotonic() - stopped_at < 30
    for what, status, body, retry_after in seen:
        assert status == 503, (what, body)
        assert body["error"]["status"] == "UNAVAILABLE", (what, body)
        assert retry_after is not None and int(retry_after) > 0, what
        assert "Traceback" not in str(body)

    async def recovered() -> bool:
        status, _, _ = await _answer(http, "GET", "/v1.0/providers", params={"accesskey": key})
        return status == 200

    await eventually(recovered, 30, interval=0.5, message="the API recovers after the restart")
