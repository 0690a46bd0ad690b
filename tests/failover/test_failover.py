"""Failover on the same call: a carrier's 5xx, 404, 408, silence or unknown name moves the
call to the next provider with a new Call-ID; a busy callee (or anything once answered)
does not. Each attempt is recorded on the call and each failover emits call_updated."""

from __future__ import annotations

from typing import Any

import aiohttp
from api_gateway.permissions import Permission

from tests.support.calls import get_json, wait_call
from tests.support.events import EventCollector
from tests.support.routed_calls import (
    NIL_UUID,
    NYC,
    AccountFactory,
    Caller,
    CarrierFactory,
    call_id_header,
    invited,
    invites,
    place,
    sip_provider,
)
from tests.support.routes import RouteDriver

ANSWER = "uas_answer.xml"
REJECT = "uas_reject.xml"
UNAVAILABLE = {"final_code": 503, "final_reason": "Service Unavailable"}
BUSY = {"final_code": 486, "final_reason": "Busy Here"}


async def _routes(routing: RouteDriver, customer_id: str, *provider_ids: str) -> list[str]:
    """One `+1` route per provider, tried in the order given."""
    return [
        await routing.route(provider_id, "+1", customer_id, priority=i)
        for i, provider_id in enumerate(provider_ids)
    ]


async def test_503_then_200_is_answered_through_the_second_carrier(
    api: aiohttp.ClientSession,
    routing: RouteDriver,
    caller: Caller,
    carrier: CarrierFactory,
    call_events: EventCollector,
) -> None:
    async with carrier("down", REJECT, **UNAVAILABLE) as down, carrier("up", ANSWER) as up:
        p_down, p_up = await sip_provider(routing, down), await sip_provider(routing, up)
        r_down, r_up = await _routes(routing, caller.customer_id, p_down, p_up)
        call_id = await place(api, caller, NYC)
        call = await wait_call(api, caller.operator, call_id, "hangup")
        [first_invite] = await invited(down, NYC)
        [second_invite] = await invited(up, NYC)

    assert (call["hangup_reason"], call["hangup_by"]) == ("normal", "local")
    assert call["tm_progressing"] is not None and call["provider_id"] == p_up
    first, second = call["attempts"]
    assert (first["provider_id"], first["route_id"]) == (p_down, r_down)
    assert (first["sip_status_code"], first["sip_reason"]) == (503, "Service Unavailable")
    assert first["request_uri"] == f"sip:{NYC}@{down.target}"
    assert (second["provider_id"], second["route_id"], second["sip_status_code"]) == (
        p_up,
        r_up,
        200,
    )
    assert second["request_uri"] == f"sip:{NYC}@{up.target}"
    # Same call, new Call-ID: each attempt names the INVITE that carrier saw.
    assert first["sip_call_id"] == call_id_header(first_invite)
    assert second["sip_call_id"] == call_id_header(second_invite)
    assert first["sip_call_id"] != second["sip_call_id"]
    assert first["tm_end"] <= second["tm_start"] <= second["tm_end"]

    [updated] = await call_events.wait_for("call_updated", id=call_id)
    assert updated["data"]["provider_id"] == p_up
    assert [a["provider_id"] for a in updated["data"]["attempts"]] == [p_down, p_up]
    await call_events.wait_for("call_hangup", id=call_id)


async def test_486_ends_the_call_as_busy_without_a_second_attempt(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    async with carrier("busy", REJECT, **BUSY) as busy, carrier("spare", ANSWER) as spare:
        p_busy = await sip_provider(routing, busy)
        await _routes(routing, caller.customer_id, p_busy, await sip_provider(routing, spare))
        call_id = await place(api, caller, NYC)
        call = await wait_call(api, caller.operator, call_id, "hangup")
        await invited(busy, NYC)
        # The call is over and decided: the second carrier never heard of it.
        assert invites(spare) == []
        assert spare.messages() == []
    assert (call["hangup_reason"], call["hangup_by"], call["sip_status_code"]) == (
        "busy",
        "remote",
        486,
    )
    assert [(a["provider_id"], a["sip_status_code"]) for a in call["attempts"]] == [(p_busy, 486)]


async def test_unknown_name_and_silent_carrier_fail_over_to_a_working_one(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    unknown = str(
        (
            await routing.call(
                "POST", "/v1/providers", {"type": "sip", "hostname": "no-such-carrier.invalid"}
            )
        )["id"]
    )
    async with carrier("silent", "uas_silent.xml") as silent, carrier("up", ANSWER) as up:
        p_silent, p_up = await sip_provider(routing, silent), await sip_provider(routing, up)
        await _routes(routing, caller.customer_id, unknown, p_silent, p_up)
        call_id = await place(api, caller, NYC)
        call = await wait_call(api, caller.operator, call_id, "hangup", timeout=20)
        await invited(silent, NYC)
        await invited(up, NYC)
    assert call["hangup_reason"] == "normal"
    dns, timeout, answered = call["attempts"]
    # No final response at all: code 0, and the reason says what went wrong.
    assert (dns["provider_id"], dns["sip_status_code"]) == (unknown, 0) and dns["sip_reason"]
    assert dns["sip_call_id"] != ""
    assert (timeout["provider_id"], timeout["sip_status_code"]) == (p_silent, 0)
    assert timeout["sip_reason"]
    assert (answered["provider_id"], answered["sip_status_code"]) == (p_up, 200)


async def test_exhausted_candidates_hang_up_with_the_last_attempts_reason(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    timeout_408 = {"final_code": 408, "final_reason": "Request Timeout"}
    async with (
        carrier("down", REJECT, **UNAVAILABLE) as down,
        carrier("slow", REJECT, **timeout_408) as slow,
    ):
        p_down, p_slow = await sip_provider(routing, down), await sip_provider(routing, slow)
        await _routes(routing, caller.customer_id, p_down, p_slow)
        call_id = await place(api, caller, NYC)
        call = await wait_call(api, caller.operator, call_id, "hangup")
    assert (call["hangup_reason"], call["sip_status_code"]) == ("noanswer", 408)
    assert [a["sip_status_code"] for a in call["attempts"]] == [503, 408]
    assert call["provider_id"] == p_slow


async def test_providercalls_keep_their_single_forced_provider(
    api: aiohttp.ClientSession,
    routing: RouteDriver,
    accounts: AccountFactory,
    carrier: CarrierFactory,
) -> None:
    admin: Caller = await accounts(Permission.PROJECT_SUPER_ADMIN)
    async with carrier("down", REJECT, **UNAVAILABLE) as down, carrier("up", ANSWER) as up:
        forced = await sip_provider(routing, down)
        # Routes that would fail over do not matter to a ProviderCall.
        await _routes(routing, admin.customer_id, forced, await sip_provider(routing, up))
        body: dict[str, Any] = {
            "provider_id": forced,
            "source": {"type": "tel", "target": "+14155551234"},
            "destinations": [{"type": "tel", "target": NYC}],
        }
        async with api.post("/v1.0/providercalls", json=body, headers=admin.headers) as resp:
            created = await resp.json()
            assert resp.status == 200, created
        call = await wait_call(api, admin.headers, created["call_ids"][0], "hangup")
        assert invites(up) == []
    assert (call["hangup_reason"], call["sip_status_code"]) == ("failed", 503)
    [attempt] = call["attempts"]
    assert (attempt["provider_id"], attempt["route_id"]) == (forced, NIL_UUID)
    fetched = await get_json(api, f"/v1.0/calls/{call['id']}", admin.headers)
    assert fetched["attempts"] == call["attempts"]
