"""Calls through the platform: call-manager's test settings, the fake directories it asks,
request bodies, and HTTP helpers (bounded waits only)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
from aio_pika.abc import AbstractRobustConnection
from call_manager.settings import Settings as CallManagerSettings
from shared.errors import not_found
from shared.rpc import Router, RpcContext, RpcServer
from shared.sip.testing.sipp import SippProcess

from tests.support.polling import eventually

CALL_SCENARIOS = Path(__file__).parents[1] / "calls" / "scenarios"
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

# The source the call bodies here send (a caller ID the tests verify for their customers).
CALLER_ID = "+14155551234"

SippFactory = Callable[..., AbstractAsyncContextManager[SippProcess]]


def new_uuid() -> str:
    return str(uuid.uuid4())


# Providers create_provider made; the calls conftest deletes them after each test so that
# other suites sharing the database (the health checker probes every active provider) never
# see dead sipp ports.
CREATED_PROVIDERS: list[str] = []


async def create_provider(
    http: aiohttp.ClientSession, headers: dict[str, str], hostname: str, **fields: Any
) -> dict[str, Any]:
    body = {"type": "sip", "hostname": hostname, "name": "carrier", **fields}
    async with http.post("/v1.0/providers", json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        result: dict[str, Any] = await resp.json()
    CREATED_PROVIDERS.append(str(result["id"]))
    return result


def calls_body(*targets: str, **fields: Any) -> dict[str, Any]:
    """A POST /calls body: `targets` as tel destinations, from the verified CALLER_ID."""
    return {
        "source": {"type": "tel", "target": CALLER_ID, "target_name": "QA"},
        "destinations": [{"type": "tel", "target": t} for t in targets],
        **fields,
    }


def call_body(provider_id: str, *targets: str, **fields: Any) -> dict[str, Any]:
    """A POST /providercalls body: calls_body through `provider_id`."""
    return {"provider_id": provider_id, **calls_body(*targets, **fields)}


class Directory:
    """Fake agent-manager and registrar-manager: agents, extensions and contacts by id."""

    def __init__(self) -> None:
        self.agents: dict[str, dict[str, Any]] = {}
        self.extensions: dict[str, dict[str, Any]] = {}
        self.contacts: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.requests: list[str] = []

    def add_agent(self, customer_id: str, addresses: list[dict[str, str]], **fields: Any) -> str:
        """A new agent of `customer_id` with `addresses` (and e.g. ring_method); its id."""
        agent_id = new_uuid()
        self.agents[agent_id] = {
            "id": agent_id,
            "customer_id": customer_id,
            "addresses": addresses,
            **fields,
        }
        return agent_id

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

    def servers(
        self, broker: AbstractRobustConnection, settings: CallManagerSettings
    ) -> list[RpcServer]:
        """The agent-manager and registrar-manager RPC servers the call-manager of
        `settings` asks (not started)."""
        agents = Router()
        agents.get("/v1/agents/{id}", self.agent)
        registrar = Router()
        registrar.get("/v1/extensions/{id}", self.extension)
        registrar.get("/v1/contacts", self.contact_list)
        return [
            RpcServer(broker, settings.peer_queue("agent-manager"), agents),
            RpcServer(broker, settings.peer_queue("registrar-manager"), registrar),
        ]


async def request_json(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    status: int = 200,
) -> dict[str, Any]:
    """The JSON reply to `method path`, which must come with `status` (and, for 429 and 503,
    a Retry-After that says when to come back)."""
    async with http.request(method, path, json=body, headers=headers) as resp:
        data: dict[str, Any] = await resp.json()
        assert resp.status == status, data
        if status in (429, 503):
            assert int(resp.headers["Retry-After"]) > 0
        return data


async def get_json(
    http: aiohttp.ClientSession, path: str, headers: dict[str, str], status: int = 200
) -> dict[str, Any]:
    return await request_json(http, "GET", path, headers, status=status)


async def post_providercall(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    body: dict[str, Any],
    status: int = 200,
) -> dict[str, Any]:
    return await request_json(http, "POST", "/v1.0/providercalls", headers, body, status)


async def post_calls(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    body: dict[str, Any],
    status: int = 200,
) -> dict[str, Any]:
    return await request_json(http, "POST", "/v1.0/calls", headers, body, status)


async def wait_call(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    call_id: str,
    status: str,
    timeout: float = 15.0,
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        call = await get_json(http, f"/v1.0/calls/{call_id}", headers)
        return call if call["status"] == status else None

    return await eventually(probe, timeout, message=f"call {call_id} {status}")


async def hangup(
    http: aiohttp.ClientSession, headers: dict[str, str], call_id: str
) -> dict[str, Any]:
    return await request_json(http, "POST", f"/v1.0/calls/{call_id}/hangup", headers)
