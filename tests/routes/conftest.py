"""Routing fixtures.

`routing` is a provider-manager of its own (own database, queue prefix and a random default
route customer), fresh for each test: default routes are global by nature, so routes one test
gives the default customer must not become candidates in another test (or another suite).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from provider_manager.app import ProviderManagerApp
from shared.rpc import RpcClient

from tests.support.databases import private_database
from tests.support.routes import RouteDriver, private_routing


@pytest.fixture(scope="module")
async def routing_database(platform_env: dict[str, Any]) -> AsyncIterator[str]:
    async with private_database(platform_env, "routes", ["provider-manager"]) as url:
        yield url


@pytest.fixture
async def routing(
    platform_env: dict[str, Any], routing_database: str, rpc: RpcClient
) -> AsyncIterator[RouteDriver]:
    env = {**platform_env, "QUEUE_PREFIX": f"test-routes-{uuid.uuid4().hex[:10]}"}
    async with private_routing(env, routing_database, rpc) as driver:
        yield driver


@pytest.fixture
def shared_routes(
    provider_manager: ProviderManagerApp, rpc: RpcClient, queues: dict[str, str]
) -> RouteDriver:
    """The session's provider-manager (whose events the `events` fixture sees). Tests on it
    always name a customer, so they never add default routes to the shared database."""
    return RouteDriver(rpc, queues["provider-manager"], provider_manager)
