"""A gateway of its own for the login-throttle tests, on a database of its own.

Failed-login counts are kept per client address, and every test talks from 127.0.0.1:
on the run's shared database, other suites' deliberate wrong passwords would count here
too (and ours there). A private database keeps both sides deterministic.
"""

from __future__ import annotations

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
from tests.support.isolated_stack import CALL_MANAGER_ENV, ISOLATED_ADMIN_PASSWORD


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
