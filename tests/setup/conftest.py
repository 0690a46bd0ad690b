"""Fixtures for one-step carrier setup: a fake Telnyx over real HTTP, and a provider-manager
plus gateway of their own (own queue prefix) pointed at it, on the run's real PostgreSQL and
RabbitMQ (those are in tests/support/carrier_setup_platform.py: the console tests use them
too). The session-wide provider-manager stays unconfigured for carrier setup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from api_gateway.app import GatewayApp
from provider_manager.app import ProviderManagerApp

from tests.support.carrier_setup import SetupDriver
from tests.support.events import EventCollector, collecting
from tests.support.gateway_env import login
from tests.support.telnyx_fake import FakeTelnyx


@pytest.fixture(scope="session")
async def setup_http(setup_gateway: GatewayApp) -> AsyncIterator[aiohttp.ClientSession]:
    base = f"http://127.0.0.1:{setup_gateway.port}"
    async with aiohttp.ClientSession(base_url=base) as session:
        session.headers.update(await login(session))
        yield session


@pytest.fixture
async def setup_events(
    broker: AbstractRobustConnection, setup_env: dict[str, Any]
) -> AsyncIterator[EventCollector]:
    async with collecting(
        broker, f"{setup_env['QUEUE_PREFIX']}.provider-manager.event"
    ) as collector:
        yield collector


@pytest.fixture
def driver(
    setup_pm: ProviderManagerApp, setup_env: dict[str, Any], rpc: Any, fake: FakeTelnyx
) -> SetupDriver:
    return SetupDriver(setup_pm, rpc, f"{setup_env['QUEUE_PREFIX']}.provider-manager.request")
