"""call-manager in-process (short timers, SIP on 127.0.0.1), sipp as the carrier, and small
fake agent-manager / registrar-manager consumers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
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
from shared.errors import AppError, ErrorStatus, not_found
from shared.rpc import Router, RpcContext, RpcServer
from shared.sip.testing.sipp import SippProcess

SCENARIOS = Path(__file__).parent / "scenarios"
RING_TIMEOUT = 3.0

CALL_MANAGER_ENV: dict[str, Any] = {
    "CALL_MANAGER_OPS_PORT": 0,
    "CALL_MANAGER_SIP_HOST": "127.0.0.1",
    "CALL_MANAGER_SIP_PORT": 0,
    "CALL_RING_TIMEOUT": RING_TIMEOUT,
    "CALL_MAX_DURATION": 30,
    "CALL_MANAGER_HEARTBEAT_INTERVAL": 0.5,
    "CALL_MANAGER_REPLICA_DEAD_AFTER": 2.0,
    "CALL_MANAGER_REAPER_INTERVAL": 0.5,
    "CALL_MANAGER_DNS_SERVERS": "127.0.0.1:9",  # nothing answers: unresolvable names fail fast
    # Customers' sip destinations here are sipp on loopback, which the dial policy refuses
    # unless the operator allows it (tests/abuse checks the refusals).
    "CALL_MANAGER_DIAL_ALLOW": "127.0.0.1/32",
}


@pytest.fixture(scope="session")
def call_manager_settings(platform_env: dict[str, Any]) -> CallManagerSettings:
    return CallManagerSettings.model_validate({**platform_env, **CALL_MANAGER_ENV})


@pytest.fixture(scope="session")
async def call_manager(
    call_manager_settings: CallManagerSettings, provider_manager: Any
) -> AsyncIterator[CallManagerApp]:
    app = CallManagerApp(call_manager_settings)
    await app.start()
    yield app
    await app.stop()


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


# The source POST /calls bodies here send.
CALLER_ID = "+14155551234"


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


SippFactory = Callable[..., AbstractAsyncContextManager[SippProcess]]


@pytest.fixture
def sipp(tmp_path: Path) -> SippFactory:
    """`async with sipp("uas_busy.xml") as carrier:` -> sipp on a free loopback port."""

    def start(scenario: str, **kwargs: Any) -> SippProcess:
        return SippProcess(tmp_path / scenario, scenario=SCENARIOS / scenario, **kwargs)

    return start


# Providers these tests create; deleted after each test so that other suites sharing the
# database (the health checker probes every active provider) never see dead sipp ports.
_CREATED: list[str] = []


async def create_provider(
    http: aiohttp.ClientSession, headers: dict[str, str], hostname: str, **fields: Any
) -> dict[str, Any]:
    body = {"type": "sip", "hostname": hostname, "name": "carrier", **fields}
    async with http.post("/v1.0/providers", json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        result: dict[str, Any] = await resp.json()
    _CREATED.append(str(result["id"]))
    return result


@pytest.fixture(autouse=True)
async def _delete_created_providers(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> AsyncIterator[None]:
    yield
    while _CREATED:
        provider_id = _CREATED.pop()
        async with calls_api.delete(f"/v1.0/providers/{provider_id}", headers=admin_headers):
            pass


def call_body(provider_id: str, *targets: str, **fields: Any) -> dict[str, Any]:
    return {
        "provider_id": provider_id,
        "source": {"type": "tel", "target": "+14155551234", "target_name": "QA"},
        "destinations": [{"type": "tel", "target": t} for t in targets],
        **fields,
    }


class Directory:
    """Fake agent-manager and registrar-manager: agents, extensions and contacts by id."""

    def __init__(self) -> None:
        self.agents: dict[str, dict[str, Any]] = {}
        self.extensions: dict[str, dict[str, Any]] = {}
        self.contacts: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.requests: list[str] = []

    async def agent(self, ctx: RpcContext) -> Any:
        self.requests.append(ctx.path)
        found = self.agents.get(ctx.params["id"])
        if found is None:
            raise not_found("AGENT_NOT_FOUND", "no such agent")
        return found

    async def extension(self, ctx: RpcContext) -> Any:
        self.requests.append(ctx.path)
        found = self.extensions.get(ctx.params["id"])
        if found is None:
            raise not_found("EXTENSION_NOT_FOUND", "no such extension")
        return found

    async def contact_list(self, ctx: RpcContext) -> Any:
        self.requests.append(ctx.path)
        return self.contacts.get((ctx.query["customer_id"], ctx.query["extension"]), [])


@pytest.fixture(scope="session")
async def directory(
    broker: AbstractRobustConnection, call_manager_settings: CallManagerSettings
) -> AsyncIterator[Directory]:
    fake = Directory()
    agents = Router()
    agents.get("/v1/agents/{id}", fake.agent)
    registrar = Router()
    registrar.get("/v1/extensions/{id}", fake.extension)
    registrar.get("/v1/contacts", fake.contact_list)
    servers = [
        RpcServer(broker, call_manager_settings.peer_queue("agent-manager"), agents),
        RpcServer(broker, call_manager_settings.peer_queue("registrar-manager"), registrar),
    ]
    for server in servers:
        await server.start()
    yield fake
    for server in servers:
        await server.stop()


def new_uuid() -> str:
    return str(uuid.uuid4())
