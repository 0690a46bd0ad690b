"""POST /v1.0/calls: who may place calls, the answer's shape, NO_ROUTE, sip destinations
dialed directly, groupcalls, validation and Idempotency-Key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from api_gateway.permissions import Permission
from call_manager.app import CallManagerApp
from shared.contracts.calls import CallCreateResult
from shared.errors import not_found
from shared.rpc import Router, RpcContext, RpcServer

from tests.support.calls import calls_body, get_json, post_calls, wait_call
from tests.support.routed_calls import (
    LONDON,
    NIL_UUID,
    NYC,
    AccountFactory,
    Caller,
    CarrierFactory,
    invited,
    invites,
    place,
    sip_provider,
)
from tests.support.routes import RouteDriver

ANSWER = "uas_answer.xml"


async def _status(
    http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], body: Any = None
) -> int:
    async with http.request(method, path, json=body, headers=headers) as resp:
        return resp.status


async def test_no_route_is_a_clear_422_and_nothing_is_dialed(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    refused = await post_calls(api, caller.headers, calls_body(NYC), 422)
    error = refused["error"]
    assert error["reason"] == "NO_ROUTE" and NYC in error["message"]
    assert [f["destination"]["target"] for f in error["details"]["failed_destinations"]] == [NYC]

    async with carrier("us", ANSWER) as us:
        await routing.route(await sip_provider(routing, us), "+1", caller.customer_id)
        # One routable and one unroutable number: all or nothing.
        mixed = await post_calls(api, caller.headers, calls_body(NYC, LONDON), 422)
        assert mixed["error"]["reason"] == "NO_ROUTE" and LONDON in mixed["error"]["message"]
        listed = await get_json(api, "/v1.0/calls", caller.headers)
        assert listed["result"] == []
        assert invites(us) == []


async def test_answer_lists_the_created_calls(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    async with carrier("us", ANSWER) as us:
        provider = await sip_provider(routing, us)
        await routing.route(provider, "+1", caller.customer_id)
        body = {**calls_body(NYC, "+13105550000"), "customer_id": str(uuid.uuid4())}
        created = CallCreateResult.model_validate(await post_calls(api, caller.headers, body))
        for call in created.calls:
            await wait_call(api, caller.headers, call.id, "hangup")
        assert len(invites(us)) == 2
    assert created.groupcalls == []
    assert [c.destination["target"] for c in created.calls] == [NYC, "+13105550000"]
    for call in created.calls:
        # customer_id comes from the caller, never from the body.
        assert call.customer_id == caller.customer_id
        assert (call.providercall_id, call.groupcall_id) == (NIL_UUID, NIL_UUID)
        # Customers see each attempt's outcome, not the carrier (issue 11).
        assert call.provider_id == NIL_UUID and call.status == "dialing"
        assert [(a.provider_id, a.request_uri) for a in call.attempts] == [(NIL_UUID, "")]
        full = await get_json(api, f"/v1.0/calls/{call.id}", caller.operator)
        assert full["provider_id"] == provider
        assert [a["provider_id"] for a in full["attempts"]] == [provider]


async def test_sip_destinations_are_dialed_directly(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    async with carrier("pbx", ANSWER) as pbx:
        body = calls_body()
        body["destinations"] = [{"type": "sip", "target": f"alice@{pbx.target}"}]
        [call] = (await post_calls(api, caller.headers, body))["calls"]
        done = await wait_call(api, caller.headers, call["id"], "hangup")
        [invite] = invites(pbx)
    assert invite.start_line == f"INVITE sip:alice@{pbx.target} SIP/2.0"
    assert done["hangup_reason"] == "normal" and done["provider_id"] == NIL_UUID
    assert [(a["provider_id"], a["route_id"]) for a in done["attempts"]] == [(NIL_UUID, NIL_UUID)]


@pytest.fixture
async def agents(
    broker: AbstractRobustConnection, routed_call_manager: CallManagerApp
) -> AsyncIterator[dict[str, dict[str, Any]]]:
    """A stand-in agent-manager on our call-manager's queue prefix: agents by id."""
    known: dict[str, dict[str, Any]] = {}

    async def agent(ctx: RpcContext) -> Any:
        found = known.get(ctx.params["id"])
        if found is None:
            raise not_found("AGENT_NOT_FOUND", "no such agent")
        return found

    router = Router()
    router.get("/v1/agents/{id}", agent)
    server = RpcServer(broker, routed_call_manager.config.peer_queue("agent-manager"), router)
    await server.start()
    yield known
    await server.stop()


async def test_agent_destinations_become_routed_groupcalls(
    api: aiohttp.ClientSession,
    routing: RouteDriver,
    caller: Caller,
    carrier: CarrierFactory,
    agents: dict[str, dict[str, Any]],
) -> None:
    agent_id = str(uuid.uuid4())
    agents[agent_id] = {
        "id": agent_id,
        "customer_id": caller.customer_id,
        "ring_method": "linear",
        "addresses": [{"type": "tel", "target": NYC}],
    }
    async with carrier("us", ANSWER) as us:
        provider = await sip_provider(routing, us)
        await routing.route(provider, "+1", caller.customer_id)
        body = calls_body()
        body["destinations"] = [{"type": "agent", "target": agent_id}]
        created = await post_calls(api, caller.headers, body)
        assert created["calls"] == []
        [group] = created["groupcalls"]
        await invited(us, NYC)
        child = await wait_call(api, caller.operator, group["call_ids"][0], "hangup")
    assert (group["owner_id"], group["provider_id"]) == (agent_id, NIL_UUID)
    assert child["provider_id"] == provider and child["groupcall_id"] == group["id"]


async def test_who_may_place_and_see_calls(
    api: aiohttp.ClientSession,
    routing: RouteDriver,
    caller: Caller,
    accounts: AccountFactory,
    carrier: CarrierFactory,
) -> None:
    agent: Caller = await accounts(Permission.CUSTOMER_AGENT, caller.customer_id)
    manager: Caller = await accounts(Permission.CUSTOMER_MANAGER, caller.customer_id)
    outsider: Caller = await accounts(Permission.CUSTOMER_ADMIN)
    body = calls_body(NYC)
    assert await _status(api, "POST", "/v1.0/calls", agent.headers, body) == 403
    assert await _status(api, "POST", "/v1.0/calls", {}, body) == 401
    async with carrier("us", ANSWER) as us:
        await routing.route(await sip_provider(routing, us), "+1", caller.customer_id)
        call_id = await place(api, manager, NYC)
        await wait_call(api, caller.headers, call_id, "hangup")
    # Another customer's admin neither sees the call nor finds it in its list.
    path = f"/v1.0/calls/{call_id}"
    assert await _status(api, "GET", path, outsider.headers) == 404
    assert (await get_json(api, "/v1.0/calls", outsider.headers))["result"] == []
    assert await _status(api, "GET", path, agent.headers) == 403
    listed = await get_json(api, "/v1.0/calls", caller.headers)
    assert [c["id"] for c in listed["result"]] == [call_id]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"destinations": []}, "destinations"),
        ({"destinations": [{"type": "tel", "target": "12345"}]}, "destinations.0.target"),
        ({"flow_id": "nope"}, "flow_id"),
        ({"anonymous": "yes", "source": {"type": "sip", "target": "a@b.example"}}, "source"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(
    api: aiohttp.ClientSession, caller: Caller, change: dict[str, Any], field: str
) -> None:
    error = (await post_calls(api, caller.headers, {**calls_body(NYC), **change}, 400))["error"]
    assert error["details"]["field"] == field


async def test_idempotency_key_places_the_calls_once(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    headers = {**caller.headers, "Idempotency-Key": f"calls-{uuid.uuid4()}"}
    async with carrier("us", ANSWER) as us:
        await routing.route(await sip_provider(routing, us), "+1", caller.customer_id)
        body = calls_body(NYC)
        answers = await asyncio.gather(*(post_calls(api, headers, body) for _ in range(3)))
        again = await post_calls(api, headers, body)
        ids = {tuple(c["id"] for c in a["calls"]) for a in [*answers, again]}
        assert len(ids) == 1
        [call_id] = ids.pop()
        await wait_call(api, caller.headers, call_id, "hangup")
        assert len(invites(us)) == 1
        reused = await post_calls(api, headers, calls_body(LONDON), 422)
        assert reused["error"]["reason"] == "IDEMPOTENCY_KEY_REUSED"
