"""call-manager in-process (short timers, SIP on 127.0.0.1), sipp as the carrier, and small
fake agent-manager / registrar-manager consumers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aio_pika.abc import AbstractRobustConnection
from api_gateway.app import GatewayApp
from call_manager.app import CallManagerApp
from call_manager.settings import Settings as CallManagerSettings
from shared.contracts.caller_ids import CallerIdCreate
from shared.errors import AppError, ErrorStatus
from shared.sip.testing.sipp import SippProcess

from tests.support.apps import running
from tests.support.calls import (
    CALL_MANAGER_ENV,
    CALL_SCENARIOS,
    CALLER_ID,
    CREATED_PROVIDERS,
    Directory,
    SippFactory,
    new_uuid,
)


@pytest.fixture(scope="session")
def call_manager_settings(platform_env: dict[str, Any]) -> CallManagerSettings:
    return CallManagerSettings.model_validate({**platform_env, **CALL_MANAGER_ENV})


@pytest.fixture(scope="session")
async def call_manager(
    call_manager_settings: CallManagerSettings, provider_manager: Any
) -> AsyncIterator[CallManagerApp]:
    async with running(CallManagerApp(call_manager_settings)) as app:
        yield app


@pytest.fixture(scope="session")
async def calls_api(
    http: aiohttp.ClientSession, call_manager: CallManagerApp, gateway: GatewayApp
) -> aiohttp.ClientSession:
    """The gateway's HTTP session, once call-manager runs behind it."""
    return http


@pytest.fixture(scope="session")
def admin_customer(admin_token: str) -> str:
    claims = jwt.decode(admin_token, options={"verify_signature": False})
    return str(claims["customer_id"])


@pytest.fixture(scope="session")
async def admin_caller_id(call_manager: CallManagerApp, admin_customer: str) -> str:
    """The admin's customer may send CALLER_ID on POST /calls (a verified caller ID)."""
    body = CallerIdCreate(customer_id=admin_customer, pattern=CALLER_ID)
    try:
        await call_manager.caller_ids.create(new_uuid(), body)
    except AppError as err:
        if err.status is not ErrorStatus.ALREADY_EXISTS:
            raise
    return CALLER_ID


@pytest.fixture
def sipp(tmp_path: Path) -> SippFactory:
    """`async with sipp("uas_busy.xml") as carrier:` -> sipp on a free loopback port."""

    def start(scenario: str, **kwargs: Any) -> SippProcess:
        return SippProcess(tmp_path / scenario, scenario=CALL_SCENARIOS / scenario, **kwargs)

    return start


@pytest.fixture(autouse=True)
async def _delete_created_providers(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> AsyncIterator[None]:
    yield
    while CREATED_PROVIDERS:
        provider_id = CREATED_PROVIDERS.pop()
        async with calls_api.delete(f"/v1.0/providers/{provider_id}", headers=admin_headers):
            pass


@pytest.fixture(scope="session")
async def directory(
    broker: AbstractRobustConnection, call_manager_settings: CallManagerSettings
) -> AsyncIterator[Directory]:
    fake = Directory()
    servers = fake.servers(broker, call_manager_settings)
    for server in servers:
        await server.start()
    yield fake
    for server in servers:
        await server.stop()
