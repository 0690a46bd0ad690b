"""Fixtures for one-step carrier setup: a fake Telnyx over real HTTP, and a provider-manager
plus gateway of their own (own queue prefix) pointed at it, on the run's real PostgreSQL and
RabbitMQ. The session-wide provider-manager stays unconfigured for carrier setup."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from api_gateway.app import GatewayApp
from api_gateway.settings import Settings as GatewaySettings
from provider_manager.app import ProviderManagerApp
from provider_manager.settings import Settings as ProviderManagerSettings

from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME, JWT_SECRET
from tests.fakes.telnyx_fake import FakeTelnyx
from tests.setup.helpers import EGRESS, SetupDriver
from tests.support.events import EventCollector
from tests.support.gateway_env import UNTHROTTLED_LOGIN

# Short carrier budgets keep failure tests fast; the shape of the budgets is the production one.
FAST_SETUP = {
    "TELNYX_SIP_EGRESS_ADDRESSES": ",".join(EGRESS),
    "TELNYX_REQUEST_TIMEOUT": 1.0,
    "TELNYX_CONNECT_TIMEOUT": 0.5,
    "TELNYX_MAX_ATTEMPTS": 3,
    "TELNYX_RETRY_BASE_DELAY": 0.01,
    "TELNYX_RETRY_MAX_DELAY": 0.05,
    "TELNYX_MAX_SERVER_WAIT": 2.0,
    "PROVIDER_MANAGER_SETUP_DEADLINE": 10.0,
    "PROVIDER_MANAGER_SETUP_ROLLBACK_DEADLINE": 5.0,
    "PROVIDER_MANAGER_SETUP_SWEEP_BUDGET": 3.0,
}


@pytest.fixture(scope="session")
async def fake_telnyx() -> AsyncIterator[FakeTelnyx]:
    async with FakeTelnyx() as fake:
        yield fake


@pytest.fixture
def fake(fake_telnyx: FakeTelnyx) -> FakeTelnyx:
    """The fake, emptied: no resources, faults or logged requests from earlier tests."""
    fake_telnyx.reset()
    fake_telnyx.state.config.unapproved_countries = []
    fake_telnyx.state.config.refuse_delete_with_children = True
    return fake_telnyx


@pytest.fixture(scope="session")
def setup_env(platform_env: dict[str, Any], fake_telnyx: FakeTelnyx) -> dict[str, Any]:
    return {
        **platform_env,
        "QUEUE_PREFIX": f"{platform_env['QUEUE_PREFIX']}-setup-{uuid.uuid4().hex[:6]}",
        "TELNYX_API_BASE_URL": fake_telnyx.base_url,
        **FAST_SETUP,
    }


@pytest.fixture(scope="session")
async def setup_pm(setup_env: dict[str, Any]) -> AsyncIterator[ProviderManagerApp]:
    app = ProviderManagerApp(
        ProviderManagerSettings.model_validate({**setup_env, "PROVIDER_MANAGER_OPS_PORT": 0})
    )
    await app.start()
    yield app
    await app.stop()


@pytest.fixture(scope="session")
async def setup_gateway(
    setup_env: dict[str, Any], setup_pm: ProviderManagerApp
) -> AsyncIterator[GatewayApp]:
    app = GatewayApp(
        GatewaySettings.model_validate(
            {
                **setup_env,
                **UNTHROTTLED_LOGIN,
                "GATEWAY_PORT": 0,
                "GATEWAY_OPS_PORT": 0,
                "ADMIN_USERNAME": ADMIN_USERNAME,
                "ADMIN_PASSWORD": ADMIN_PASSWORD,
                "JWT_SECRET": JWT_SECRET,
            }
        )
    )
    await app.start()
    yield app
    await app.stop()


@pytest.fixture(scope="session")
async def setup_http(setup_gateway: GatewayApp) -> AsyncIterator[aiohttp.ClientSession]:
    base = f"http://127.0.0.1:{setup_gateway.port}"
    async with aiohttp.ClientSession(base_url=base) as session:
        async with session.post(
            "/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        ) as resp:
            assert resp.status == 200, await resp.text()
            token = (await resp.json())["token"]
        session.headers["Authorization"] = f"Bearer {token}"
        yield session


@pytest.fixture
async def setup_events(
    broker: AbstractRobustConnection, setup_env: dict[str, Any]
) -> AsyncIterator[EventCollector]:
    collector = EventCollector()
    await collector.start(broker, f"{setup_env['QUEUE_PREFIX']}.provider-manager.event")
    yield collector
    await collector.stop()


@pytest.fixture
def driver(
    setup_pm: ProviderManagerApp, setup_env: dict[str, Any], rpc: Any, fake: FakeTelnyx
) -> SetupDriver:
    return SetupDriver(setup_pm, rpc, f"{setup_env['QUEUE_PREFIX']}.provider-manager.request")
