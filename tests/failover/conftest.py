"""An isolated platform for routed calls: its own queue prefix, gateway and call-manager (for
the package), and a provider-manager per test with its own database and a random default
route customer, so neither default routes nor the sipp carriers these tests register ever
reach other suites (the health-checker probes every provider of the shared database).

Every test places calls as a fresh customer (its own CustomerAdmin account), so customer
routes never leak between tests either.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from api_gateway.accounts import AccountStore
from api_gateway.app import GatewayApp
from api_gateway.permissions import Permission
from call_manager.app import CallManagerApp
from call_manager.settings import Settings as CallManagerSettings
from shared.rpc import RpcClient
from shared.sip.testing.sipp import SippProcess

from tests.support.apps import gateway_app, running
from tests.support.calls import CALL_MANAGER_ENV as CALLS_ENV
from tests.support.calls import CALLER_ID
from tests.support.databases import private_database
from tests.support.events import EventCollector, collecting
from tests.support.gateway_env import login
from tests.support.routed_calls import PASSWORD, AccountFactory, Caller, CarrierFactory
from tests.support.routes import RouteDriver, private_routing

SCENARIOS = Path(__file__).parent / "scenarios"

CALL_MANAGER_ENV: dict[str, Any] = {
    **CALLS_ENV,
    "CALL_RING_TIMEOUT": 8.0,
    # Timer B = 64 * T1 = 3.2 s: a silent carrier fails over within the ring timeout.
    "CALL_MANAGER_SIP_T1": 0.05,
}


@pytest.fixture(scope="package")
async def failover_database(platform_env: dict[str, Any]) -> AsyncIterator[str]:
    async with private_database(
        platform_env, "failover_calls", ["api-gateway", "call-manager"]
    ) as url:
        yield url


@pytest.fixture(scope="package")
def failover_env(platform_env: dict[str, Any], failover_database: str) -> dict[str, Any]:
    """A database and a queue prefix of our own: on the run's database, the run's
    call-manager relay could publish our call events on the run's exchange (and ours the
    run's), so `call_events` would miss some."""
    return {
        **platform_env,
        "DATABASE_URL": failover_database,
        "QUEUE_PREFIX": f"test-failover-{uuid.uuid4().hex[:10]}",
    }


@pytest.fixture(scope="package")
async def routing_database(platform_env: dict[str, Any]) -> AsyncIterator[str]:
    async with private_database(platform_env, "failover", ["provider-manager"]) as url:
        yield url


@pytest.fixture(scope="package")
async def routed_call_manager(failover_env: dict[str, Any]) -> AsyncIterator[CallManagerApp]:
    settings = CallManagerSettings.model_validate({**failover_env, **CALL_MANAGER_ENV})
    async with running(CallManagerApp(settings)) as app:
        yield app


@pytest.fixture(scope="package")
async def routed_gateway(failover_env: dict[str, Any]) -> AsyncIterator[GatewayApp]:
    # Its own database's admin (created as it starts), a JWT secret of its own.
    secret = f"failover-jwt-secret-{uuid.uuid4().hex}"
    async with running(gateway_app(failover_env, JWT_SECRET=secret)) as app:
        yield app


@pytest.fixture(scope="package")
async def api(
    routed_gateway: GatewayApp, routed_call_manager: CallManagerApp
) -> AsyncIterator[aiohttp.ClientSession]:
    """HTTP to our gateway, once our call-manager runs behind it."""
    base = f"http://127.0.0.1:{routed_gateway.port}"
    async with aiohttp.ClientSession(base_url=base) as session:
        yield session


@pytest.fixture
async def routing(
    failover_env: dict[str, Any], routing_database: str, rpc: RpcClient
) -> AsyncIterator[RouteDriver]:
    """This test's provider-manager: own database, a default route customer of its own."""
    async with private_routing(failover_env, routing_database, rpc) as driver:
        yield driver


@pytest.fixture
def accounts(
    routed_gateway: GatewayApp,
    api: aiohttp.ClientSession,
    rpc: RpcClient,
    routed_call_manager: CallManagerApp,
) -> AccountFactory:
    """`await accounts(Permission.CUSTOMER_ADMIN)` -> a Caller of a new (or given) customer,
    whose caller ID (the source calls_body sends) is verified."""
    store = AccountStore(routed_gateway.sessions)
    queue = routed_call_manager.config.request_queue("call-manager")

    async def make(permission: Permission, customer_id: str | None = None) -> Caller:
        customer = customer_id or str(uuid.uuid4())
        name = f"failover-{permission.value}-{uuid.uuid4().hex[:8]}"
        await store.create_account(name, PASSWORD, permission, customer)
        if customer_id is None:
            body = {"customer_id": customer, "pattern": CALLER_ID}
            await rpc.request(queue, "POST", "/v1/caller_ids", body)
        operator = await login(api)
        return Caller(customer, await login(api, name, PASSWORD), operator)

    return make


@pytest.fixture
async def caller(accounts: AccountFactory) -> Caller:
    """A CustomerAdmin of a customer no other test uses."""
    made: Caller = await accounts(Permission.CUSTOMER_ADMIN)
    return made


@pytest.fixture
def carrier(tmp_path: Path) -> CarrierFactory:
    """`async with carrier("a", "uas_reject.xml", final_code=503, final_reason="..."):` ->
    sipp on a free loopback port; keyword arguments fill the scenario's @NAME@ blanks."""

    def start(label: str, scenario: str, **blanks: Any) -> SippProcess:
        workdir = tmp_path / label
        workdir.mkdir()
        text = (SCENARIOS / scenario).read_text()
        for name, value in blanks.items():
            text = text.replace(f"@{name.upper()}@", str(value))
        assert not re.search(r"@[A-Z_]+@", text), f"unfilled blanks in {scenario}"
        (workdir / scenario).write_text(text)
        return SippProcess(workdir, scenario=workdir / scenario)

    return start


@pytest.fixture
async def call_events(
    broker: AbstractRobustConnection, failover_env: dict[str, Any]
) -> AsyncIterator[EventCollector]:
    """Events our call-manager publishes."""
    async with collecting(
        broker, f"{failover_env['QUEUE_PREFIX']}.call-manager.event"
    ) as collector:
        yield collector
