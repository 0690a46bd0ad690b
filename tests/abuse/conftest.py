"""A gateway of its own for the login-throttle tests, on a database of its own.

Failed-login counts are kept per client address, and every test talks from 127.0.0.1:
on the run's shared database, other suites' deliberate wrong passwords would count here
too (and ours there). A private database keeps both sides deterministic.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from api_gateway.app import GatewayApp
from api_gateway.settings import Settings as GatewaySettings
from call_manager.app import CallManagerApp
from call_manager.settings import Settings as CallManagerSettings
from provider_manager.app import ProviderManagerApp
from provider_manager.settings import Settings as ProviderManagerSettings

from tests.support.databases import private_database

ISOLATED_ADMIN_PASSWORD = "isolated-admin-password"


@pytest.fixture(scope="package")
async def isolated_database(platform_env: dict[str, Any]) -> AsyncIterator[str]:
    async with private_database(platform_env, "abuse") as url:
        yield url


@pytest.fixture(scope="package")
def isolated_env(platform_env: dict[str, Any], isolated_database: str) -> dict[str, Any]:
    """The private database and a queue prefix of our own: no other suite's providers or
    calls reach the services below."""
    return {
        **platform_env,
        "DATABASE_URL": isolated_database,
        "QUEUE_PREFIX": f"test-abuse-{uuid.uuid4().hex[:8]}",
        "GATEWAY_LOGIN_ADDRESS_MAX_FAILURES": 5,  # the default, which the run's env raises
        # Delays of a minute and more (60, 120, 240 s): a Retry-After stays what the rule says
        # however slow the machine; the tests move the clock on in the table instead.
        "GATEWAY_LOGIN_DELAY": 60,
    }


# The allowed loopback address: sipp PBXs customers may dial directly listen there, while
# 127.0.0.1 (and everything else internal) stays refused.
ALLOWED_HOST = "127.0.0.2"
MAX_CALLS = 3
CALLS_PER_SECOND = 1  # 10 calls per 10 s window

CALL_MANAGER_ENV: dict[str, Any] = {
    "CALL_MANAGER_OPS_PORT": 0,
    "CALL_MANAGER_SIP_HOST": "127.0.0.1",
    "CALL_MANAGER_SIP_PORT": 0,
    "CALL_RING_TIMEOUT": 15,
    "CALL_MAX_DURATION": 30,
    "CALL_MANAGER_SIP_T1": 0.05,
    "CALL_MANAGER_HEARTBEAT_INTERVAL": 0.5,
    "CALL_MANAGER_REPLICA_DEAD_AFTER": 5.0,
    "CALL_MANAGER_REAPER_INTERVAL": 0.5,
    "CALL_MANAGER_DNS_SERVERS": "127.0.0.1:9",
    "CALL_MANAGER_DIAL_ALLOW": f"{ALLOWED_HOST}/32",
    "CALL_MANAGER_CUSTOMER_MAX_CALLS": MAX_CALLS,
    "CALL_MANAGER_CUSTOMER_CALLS_PER_SECOND": CALLS_PER_SECOND,
}


@pytest.fixture(scope="package")
async def isolated_provider_manager(
    isolated_env: dict[str, Any],
) -> AsyncIterator[ProviderManagerApp]:
    app = ProviderManagerApp(
        ProviderManagerSettings.model_validate({**isolated_env, "PROVIDER_MANAGER_OPS_PORT": 0})
    )
    await app.start()
    yield app
    await app.stop()


@pytest.fixture(scope="package")
async def call_managers(
    isolated_env: dict[str, Any], isolated_provider_manager: ProviderManagerApp
) -> AsyncIterator[list[CallManagerApp]]:
    """Two call-manager replicas on one queue: limits must hold across them."""
    apps = [
        CallManagerApp(CallManagerSettings.model_validate({**isolated_env, **CALL_MANAGER_ENV}))
        for _ in range(2)
    ]
    for app in apps:
        await app.start()
    yield apps
    for app in apps:
        await app.stop()


@pytest.fixture(scope="package")
async def isolated_gateway(isolated_env: dict[str, Any]) -> AsyncIterator[GatewayApp]:
    app = GatewayApp(
        GatewaySettings.model_validate(
            {
                **isolated_env,
                "GATEWAY_PORT": 0,
                "GATEWAY_OPS_PORT": 0,
                "ADMIN_PASSWORD": ISOLATED_ADMIN_PASSWORD,
                "JWT_SECRET": "abuse-" + uuid.uuid4().hex + uuid.uuid4().hex,
                # Revocations made by the CLI (another process) show within this delay.
                "GATEWAY_IDENTITY_CACHE": 0.2,
            }
        )
    )
    await app.start()
    yield app
    await app.stop()


@pytest.fixture(scope="package")
async def iso_http(isolated_gateway: GatewayApp) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{isolated_gateway.port}", cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        yield session


def gateway_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m api_gateway ...` as an operator runs it, against `database_url`."""
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "api_gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def cli_account(database_url: str, password: str, permission: str, **extra: str) -> str:
    """A new account made with the CLI; its username."""
    username = f"abuse-{uuid.uuid4().hex[:10]}"
    args = ["account", "--username", username, "--password", password]
    args += ["--permission", permission]
    for name, value in extra.items():
        args += [f"--{name.replace('_', '-')}", value]
    done = await asyncio.to_thread(gateway_cli, database_url, *args)
    assert done.returncode == 0, done.stderr
    return username
