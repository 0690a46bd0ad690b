"""The whole platform behind a gateway of its own (own queue prefix, own database): provider-
manager with carrier setup pointed at the fake Telnyx, call-manager with its SIP bound to
loopback (so no generated call can leave the machine) and fake agent/registrar directories, a
health-checker, and a system default route to a busy loopback carrier, so every E.164 number
has a route.

The database is private because schemathesis creates hundreds of providers at unreachable
hosts: in the run's shared database the shared health-checker would probe them all, and its
one-second rounds (which the health tests time) would overrun."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from api_gateway.app import GatewayApp
from api_gateway.settings import Settings as GatewaySettings
from call_manager.app import CallManagerApp
from call_manager.settings import Settings as CallManagerSettings
from health_checker.app import HealthCheckerApp
from health_checker.settings import Settings as HealthCheckerSettings
from provider_manager.app import ProviderManagerApp
from provider_manager.settings import Settings as ProviderManagerSettings
from shared.rpc import RpcServer
from shared.runtime import ServiceApp
from shared.sip.testing.udp_peers import SipResponder

from tests.support.calls import CALL_MANAGER_ENV, Directory
from tests.support.carrier_setup import FAST_SETUP
from tests.support.databases import private_database
from tests.support.gateway_env import gateway_env, login
from tests.support.telnyx_fake import FakeTelnyx


@pytest.fixture(scope="session")
async def contract_env(platform_env: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    async with FakeTelnyx() as fake, private_database(platform_env, "contract") as database:
        # gateway_env's unthrottled login: schemathesis fails logins on purpose.
        yield gateway_env(
            {
                **platform_env,
                "DATABASE_URL": database,
                "QUEUE_PREFIX": f"{platform_env['QUEUE_PREFIX']}-contract-{uuid.uuid4().hex[:6]}",
                "TELNYX_API_BASE_URL": fake.base_url,
                **FAST_SETUP,
                **CALL_MANAGER_ENV,
                "PROVIDER_MANAGER_OPS_PORT": 0,
                "HEALTH_CHECKER_OPS_PORT": 0,
                "HEALTH_CHECK_SIP_HOST": "127.0.0.1",
                "HEALTH_CHECK_DNS_SERVERS": "127.0.0.1:9",
            }
        )


@pytest.fixture(scope="session")
async def contract_gateway(
    contract_env: dict[str, Any], broker: AbstractRobustConnection
) -> AsyncIterator[GatewayApp]:
    """The gateway, once every service it fronts (and the fakes they ask) is running."""
    settings = CallManagerSettings.model_validate(contract_env)
    apps: list[ServiceApp] = [
        ProviderManagerApp(ProviderManagerSettings.model_validate(contract_env)),
        CallManagerApp(settings),
        HealthCheckerApp(HealthCheckerSettings.model_validate(contract_env)),
        GatewayApp(GatewaySettings.model_validate(contract_env)),
    ]
    servers = Directory().servers(broker, settings)
    # A carrier that is always busy: every generated call ends at once, on loopback.
    carrier = await SipResponder.start(status=486, reason="Busy Here")
    started: list[RpcServer | ServiceApp] = []
    try:
        parts: list[RpcServer | ServiceApp] = [*servers, *apps]
        for part in parts:
            await part.start()
            started.append(part)
        gateway = apps[-1]
        assert isinstance(gateway, GatewayApp)
        await _default_route(gateway, f"127.0.0.1:{carrier.port}")
        yield gateway
    finally:
        for part in reversed(started):
            await part.stop()
        carrier.close()


async def _default_route(gateway: GatewayApp, hostname: str) -> None:
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{gateway.port}") as http:
        headers = await login(http)
        body = {"type": "sip", "hostname": hostname, "name": "contract carrier"}
        async with http.post("/v1.0/providers", json=body, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            provider = await resp.json()
        route = {"provider_id": provider["id"], "target": "all", "name": "contract default"}
        async with http.post("/v1.0/routes", json=route, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
