"""Platform fixtures: one throwaway database and queue prefix per test run, real PostgreSQL
and RabbitMQ, services started in-process on ephemeral ports."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import aio_pika
import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from api_gateway.app import GatewayApp
from provider_manager.app import ProviderManagerApp
from provider_manager.credentials import new_key_text
from shared.broker import connect
from shared.logging import configure_logging
from shared.rpc import RpcClient

from tests.support.apps import gateway_app, provider_manager_app, running
from tests.support.backends import resolve_backends, with_database
from tests.support.databases import drop_database, migrate_all
from tests.support.events import EventCollector, collecting
from tests.support.gateway_env import login

SERVICES = ("provider-manager", "call-manager", "health-checker")

# Fixtures more than one feature folder uses, started only where a test asks for them.
pytest_plugins = ["tests.support.carrier_setup_platform"]


@pytest.fixture(scope="session")
def backends() -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        yield resolve_backends(stack)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


async def _delete_exchanges(amqp_url: str, prefix: str) -> None:
    """The run's event exchanges are durable: without this every run left three behind."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for service in (*SERVICES, "api-gateway"):
            await channel.exchange_delete(f"{prefix}.{service}.event")


@pytest.fixture(scope="session")
def platform_env(backends: tuple[str, str], run_id: str) -> Iterator[dict[str, Any]]:
    """Settings every in-process service of this run shares; all four schemas migrated."""
    configure_logging("tests", "WARNING")
    server_url, amqp_url = backends
    name = f"voip_test_{run_id}"
    env: dict[str, Any] = {
        "DATABASE_URL": with_database(server_url, name),
        "AMQP_URL": amqp_url,
        "QUEUE_PREFIX": f"test-{run_id}",
        # A fresh key per run: provider passwords are sealed with it (provider-manager).
        "PROVIDER_CREDENTIALS_KEY": new_key_text(),
        # Every test logs in from 127.0.0.1, and some fail on purpose: a per-address limit
        # of 5 would soon lock the whole run out (tests/abuse checks the limit on its own
        # database, with the default).
        "GATEWAY_LOGIN_ADDRESS_MAX_FAILURES": 100_000,
        "GATEWAY_LOGIN_DELAY": 0,  # nor delay the address's next attempt after each failure
    }
    migrate_all(env)
    yield env
    asyncio.run(drop_database(server_url, name))
    asyncio.run(_delete_exchanges(amqp_url, env["QUEUE_PREFIX"]))


@pytest.fixture(scope="session")
async def broker(platform_env: dict[str, Any]) -> AsyncIterator[AbstractRobustConnection]:
    connection = await connect(platform_env["AMQP_URL"], "tests")
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
async def rpc(broker: AbstractRobustConnection) -> AsyncIterator[RpcClient]:
    client = RpcClient(broker, "tests", default_timeout=5.0)
    await client.start()
    yield client
    await client.stop()


@pytest.fixture(scope="session")
def queues(platform_env: dict[str, Any]) -> dict[str, str]:
    """Request queue of each service in this run."""
    prefix = platform_env["QUEUE_PREFIX"]
    return {name: f"{prefix}.{name}.request" for name in SERVICES}


@pytest.fixture(scope="session")
def exchanges(platform_env: dict[str, Any]) -> dict[str, str]:
    prefix = platform_env["QUEUE_PREFIX"]
    return {name: f"{prefix}.{name}.event" for name in SERVICES}


@pytest.fixture(scope="session")
async def provider_manager(
    platform_env: dict[str, Any],
) -> AsyncIterator[ProviderManagerApp]:
    async with running(provider_manager_app(platform_env)) as app:
        yield app


@pytest.fixture(scope="session")
async def gateway(
    platform_env: dict[str, Any], provider_manager: ProviderManagerApp
) -> AsyncIterator[GatewayApp]:
    async with running(gateway_app(platform_env)) as app:
        yield app


@pytest.fixture(scope="session")
async def http(gateway: GatewayApp) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{gateway.port}") as session:
        yield session


@pytest.fixture(scope="session")
async def admin_headers(http: aiohttp.ClientSession) -> dict[str, str]:
    return await login(http)


@pytest.fixture(scope="session")
def admin_token(admin_headers: dict[str, str]) -> str:
    return admin_headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
async def events(
    broker: AbstractRobustConnection, exchanges: dict[str, str]
) -> AsyncIterator[EventCollector]:
    async with collecting(broker, *exchanges.values()) as collector:
        yield collector
