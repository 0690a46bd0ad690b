"""The carrier-setup platform: a fake Telnyx over real HTTP, and a provider-manager plus
gateway of their own (own queue prefix, own database) pointed at it. Fixtures for the setup
and console tests, registered for the whole run by tests/conftest.py (pytest_plugins).

The database is private because these fixtures live until the run ends: on the run's
database, this provider-manager's outbox relay would claim rows the shared provider-manager
wrote and publish them on this prefix's exchange, where the health-checker and the other
suites never see them (a provider_created lost now and then, found only by the next resync)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from api_gateway.app import GatewayApp
from provider_manager.app import ProviderManagerApp

from tests.support.apps import gateway_app, provider_manager_app, running
from tests.support.carrier_setup import FAST_SETUP
from tests.support.databases import private_database
from tests.support.telnyx_fake import FakeTelnyx


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
async def setup_env(
    platform_env: dict[str, Any], fake_telnyx: FakeTelnyx
) -> AsyncIterator[dict[str, Any]]:
    async with private_database(platform_env, "setup") as database:
        yield {
            **platform_env,
            "DATABASE_URL": database,
            "QUEUE_PREFIX": f"{platform_env['QUEUE_PREFIX']}-setup-{uuid.uuid4().hex[:6]}",
            "TELNYX_API_BASE_URL": fake_telnyx.base_url,
            **FAST_SETUP,
        }


@pytest.fixture(scope="session")
async def setup_pm(setup_env: dict[str, Any]) -> AsyncIterator[ProviderManagerApp]:
    async with running(provider_manager_app(setup_env)) as app:
        yield app


@pytest.fixture(scope="session")
async def setup_gateway(
    setup_env: dict[str, Any], setup_pm: ProviderManagerApp
) -> AsyncIterator[GatewayApp]:
    async with running(gateway_app(setup_env)) as app:
        yield app
