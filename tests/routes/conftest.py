"""Routing fixtures.

`routing` is a provider-manager of its own (own database, queue prefix and a random default
route customer), fresh for each test: default routes are global by nature, so routes one test
gives the default customer must not become candidates in another test (or another suite).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from provider_manager.app import ProviderManagerApp, migrate
from provider_manager.settings import Settings
from shared.db import async_url
from shared.rpc import RpcClient

from tests.routes.helpers import RouteDriver
from tests.support.backends import with_database


@pytest.fixture(scope="module")
async def routing_database(platform_env: dict[str, Any]) -> AsyncIterator[str]:
    name = f"voip_test_routes_{uuid.uuid4().hex[:10]}"
    url = with_database(platform_env["DATABASE_URL"], name)
    # migrate() runs its own event loop, so it goes to a thread.
    await asyncio.to_thread(migrate, Settings.model_validate({**platform_env, "DATABASE_URL": url}))
    yield url
    admin = async_url(with_database(platform_env["DATABASE_URL"], "postgres"))
    conn = await asyncpg.connect(admin.replace("+asyncpg", ""))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def routing(
    platform_env: dict[str, Any], routing_database: str, rpc: RpcClient
) -> AsyncIterator[RouteDriver]:
    prefix = f"test-routes-{uuid.uuid4().hex[:10]}"
    app = ProviderManagerApp(
        Settings.model_validate(
            {
                **platform_env,
                "DATABASE_URL": routing_database,
                "QUEUE_PREFIX": prefix,
                "PROVIDER_MANAGER_OPS_PORT": 0,
                "PROVIDER_MANAGER_DEFAULT_ROUTE_CUSTOMER_ID": str(uuid.uuid4()),
            }
        )
    )
    await app.start()
    try:
        yield RouteDriver(rpc, app.settings.request_queue("provider-manager"), app)
    finally:
        await app.stop()


@pytest.fixture
def shared_routes(
    provider_manager: ProviderManagerApp, rpc: RpcClient, queues: dict[str, str]
) -> RouteDriver:
    """The session's provider-manager (whose events the `events` fixture sees). Tests on it
    always name a customer, so they never add default routes to the shared database."""
    return RouteDriver(rpc, queues["provider-manager"], provider_manager)
