"""POST /v1.0/calls through the gateway as a customer made with the CLI: where a call may go
(dial policy), which caller IDs it may send, what it sees of carriers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from call_manager.app import CallManagerApp
from shared.sip.testing.udp_peers import SipResponder

from tests.support.calls import request_json as call
from tests.support.isolated_calls import (
    calls_body,
    customer,
    invite_call_ids,
    listed_calls,
    operator,
    refused,
    wait_all_hung_up,
)
from tests.support.isolated_stack import ALLOWED_HOST
from tests.support.polling import eventually

NIL = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
async def stack(
    iso_http: aiohttp.ClientSession, call_managers: list[CallManagerApp]
) -> aiohttp.ClientSession:
    return iso_http


@pytest.fixture
async def busy_pbx() -> AsyncIterator[SipResponder]:
    """A PBX on the allowed loopback address that answers 486 at once (calls end quickly)."""
    peer = await SipResponder.start(ALLOWED_HOST, status=486, reason="Busy Here", record=True)
    yield peer
    peer.close()


async def _provider(http: aiohttp.ClientSession, hostname: str) -> str:
    body = {"type": "sip", "hostname": hostname, "name": "carrier"}
    created = await call(http, "POST", "/v1.0/providers", await operator(http), body)
    return str(created["id"])


@pytest.mark.parametrize(
    "target",
    [
        "x@127.0.0.1:5060",
        "x@127.0.0.1",
        "x@10.0.0.5",
        "x@169.254.169.254:80",
        "x@[::1]:5060",
        "x@0.0.0.0",
        "x@224.0.0.1",
        "x@localhost:5060",  # a name resolving to loopback
    ],
)
async def test_internal_sip_destinations_are_refused(
    stack: aiohttp.ClientSession, isolated_database: str, target: str
) -> None:
    who = await customer(stack, isolated_database)
    data = await refused(stack, who, calls_body(target), 403, "DESTINATION_NOT_ALLOWED")
    assert data["error"]["details"]["failed_destinations"][0]["index"] == 0
    assert await listed_calls(stack, who) == []  # nothing created, nothing dialed


async def test_carrier_hosts_are_refused_with_or_without_port(
    stack: aiohttp.ClientSession, isolated_database: str, busy_pbx: SipResponder
) -> None:
    operator_headers = await operator(stack)
    carrier = await _provider(stack, "sip.carrier-abuse.example")
    on_loopback = await _provider(stack, busy_pbx.target)  # a carrier on the allowed address
    who = await customer(stack, isolated_database)
    try:
        for target in (
            "+19005550000@sip.carrier-abuse.example",
            "+19005550000@SIP.Carrier-Abuse.example:5070",
            f"+19005550000@{busy_pbx.target}",
        ):
            await refused(stack, who, calls_body(target), 403, "DESTINATION_NOT_ALLOWED")
        assert invite_call_ids(busy_pbx.received) == set()
        assert await listed_calls(stack, who) == []
    finally:
        for provider_id in (carrier, on_loopback):
            await call(stack, "DELETE", f"/v1.0/providers/{provider_id}", operator_headers)


async def test_one_refused_destination_refuses_the_whole_request(
    stack: aiohttp.ClientSession, isolated_database: str, busy_pbx: SipResponder
) -> None:
    who = await customer(stack, isolated_database)
    allowed = f"alice@{busy_pbx.target}"
    body = calls_body(allowed, "bob@10.1.2.3")
    data = await refused(stack, who, body, 403, "DESTINATION_NOT_ALLOWED")
    assert [f["index"] for f in data["error"]["details"]["failed_destinations"]] == [1]
    assert invite_call_ids(busy_pbx.received) == set()
    # The allowed PBX alone is dialed.
    created = await call(stack, "POST", "/v1.0/calls", who.headers, calls_body(allowed))
    assert len(created["calls"]) == 1
    await wait_all_hung_up(stack, who)
    assert len(invite_call_ids(busy_pbx.received)) == 1


async def test_unverified_caller_ids_are_refused(
    stack: aiohttp.ClientSession, isolated_database: str, busy_pbx: SipResponder
) -> None:
    nobody = await customer(stack, isolated_database, verified=None)
    data = await refused(stack, nobody, calls_body("+12125550000"), 403, "SOURCE_NOT_ALLOWED")
    assert "no verified caller ID" in data["error"]["message"]
    # The source is told first, whatever else is wrong (here: a destination not allowed).
    await refused(stack, nobody, calls_body("x@127.0.0.1"), 403, "SOURCE_NOT_ALLOWED")
    who = await customer(stack, isolated_database, verified="+1415555*")
    target = f"alice@{busy_pbx.target}"
    await call(stack, "POST", "/v1.0/calls", who.headers, calls_body(target, source="+14155550199"))
    await refused(stack, who, calls_body(target, source="+14155560000"), 403, "SOURCE_NOT_ALLOWED")
    sip_source = {**calls_body(target), "source": {"type": "sip", "target": "ceo@bank.example"}}
    await refused(stack, who, sip_source, 403, "SOURCE_NOT_ALLOWED")
    await wait_all_hung_up(stack, who)
    assert len(invite_call_ids(busy_pbx.received)) == 1


async def test_provider_calls_keep_their_bypass(
    stack: aiohttp.ClientSession, busy_pbx: SipResponder
) -> None:
    """A ProjectSuperAdmin's forced call: any source, a loopback carrier."""
    operator_headers = await operator(stack)
    provider = await _provider(stack, busy_pbx.target)
    try:
        body = {
            "provider_id": provider,
            "source": {"type": "tel", "target": "+19995550000"},
            "destinations": [{"type": "tel", "target": "+12125550000"}],
        }
        await call(stack, "POST", "/v1.0/providercalls", operator_headers, body)

        async def invited() -> bool:
            return len(invite_call_ids(busy_pbx.received)) == 1

        await eventually(invited, 10, message="the forced call's INVITE")
    finally:
        await call(stack, "DELETE", f"/v1.0/providers/{provider}", operator_headers)


async def test_customers_see_outcomes_not_carriers(
    stack: aiohttp.ClientSession, isolated_database: str, busy_pbx: SipResponder
) -> None:
    operator_headers = await operator(stack)
    who = await customer(stack, isolated_database)
    provider = await _provider(stack, busy_pbx.target)
    route_body = {"provider_id": provider, "customer_id": who.customer_id, "target": "+1"}
    route = await call(stack, "POST", "/v1.0/routes", operator_headers, route_body)
    try:
        created = await call(stack, "POST", "/v1.0/calls", who.headers, calls_body("+12125550000"))
        call_id = created["calls"][0]["id"]
        assert created["calls"][0]["provider_id"] == NIL
        await wait_all_hung_up(stack, who)
        seen: dict[str, Any] = await call(stack, "GET", f"/v1.0/calls/{call_id}", who.headers)
        [attempt] = seen["attempts"]
        assert (attempt["provider_id"], attempt["route_id"], attempt["request_uri"]) == (
            NIL,
            NIL,
            "",
        )
        assert attempt["sip_status_code"] == 486 and seen["hangup_reason"] == "busy"
        assert seen["provider_id"] == NIL
        listed = await listed_calls(stack, who)
        assert listed[0]["attempts"][0]["request_uri"] == ""
        full = await call(stack, "GET", f"/v1.0/calls/{call_id}", operator_headers)
        assert full["provider_id"] == provider
        assert full["attempts"][0]["route_id"] == route["id"]
        assert full["attempts"][0]["request_uri"] == f"sip:+12125550000@{busy_pbx.target}"
    finally:
        await call(stack, "DELETE", f"/v1.0/routes/{route['id']}", operator_headers)
        await call(stack, "DELETE", f"/v1.0/providers/{provider}", operator_headers)


async def test_caller_id_crud(stack: aiohttp.ClientSession, isolated_database: str) -> None:
    operator_headers = await operator(stack)
    who = await customer(stack, isolated_database, verified=None)
    body = {"customer_id": who.customer_id, "pattern": "*@pbx.example.com", "name": "desk"}
    made = await call(stack, "POST", "/v1.0/caller_ids", operator_headers, body)
    again = await call(stack, "POST", "/v1.0/caller_ids", operator_headers, body, 409)
    assert again["error"]["reason"] == "CALLER_ID_EXISTS"
    listed = await call(
        stack, "GET", f"/v1.0/caller_ids?customer_id={who.customer_id}", operator_headers
    )
    assert [c["pattern"] for c in listed["result"]] == ["*@pbx.example.com"]
    bad = {"customer_id": who.customer_id, "pattern": "not a number"}
    invalid = await call(stack, "POST", "/v1.0/caller_ids", operator_headers, bad, 400)
    assert invalid["error"]["details"]["field"] == "pattern"
    # Customers cannot verify their own caller IDs.
    await call(stack, "POST", "/v1.0/caller_ids", who.headers, body, 403)
    removed = await call(stack, "DELETE", f"/v1.0/caller_ids/{made['id']}", operator_headers)
    assert removed["id"] == made["id"]
    await call(stack, "GET", f"/v1.0/caller_ids/{made['id']}", operator_headers, status=404)
