"""Which carrier a routed call lands on: sipp carriers on loopback ports, registered as
providers with routes; the call must reach the expected sipp (and no other)."""

from __future__ import annotations

from typing import Any

import aiohttp
from api_gateway.permissions import Permission

from tests.support.calls import get_json, wait_call
from tests.support.routed_calls import (
    LA,
    LONDON,
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


async def _answered(api: aiohttp.ClientSession, caller: Caller, number: str) -> dict[str, Any]:
    """Place a call and wait for its end: answered, then hung up by us (no flow)."""
    call_id = await place(api, caller, number)
    call = await wait_call(api, caller.operator, call_id, "hangup")
    assert (call["hangup_reason"], call["tm_progressing"] is not None) == ("normal", True), call
    return call


async def test_longest_prefix_beats_country_code_beats_all(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    async with (
        carrier("nyc", ANSWER) as nyc,
        carrier("usa", ANSWER) as usa,
        carrier("any", ANSWER) as anywhere,
    ):
        p_nyc = await sip_provider(routing, nyc, "nyc")
        r_nyc = await routing.route(p_nyc, "+1212", caller.customer_id)
        await routing.route(await sip_provider(routing, usa, "usa"), "+1", caller.customer_id)
        await routing.route(await sip_provider(routing, anywhere), "all", caller.customer_id)

        call = await _answered(api, caller, NYC)
        await invited(nyc, NYC)
        await _answered(api, caller, LA)
        await invited(usa, LA)
        await _answered(api, caller, LONDON)
        await invited(anywhere, LONDON)
        assert [len(invites(c)) for c in (nyc, usa, anywhere)] == [1, 1, 1]
    assert call["provider_id"] == p_nyc
    [attempt] = call["attempts"]
    assert (attempt["provider_id"], attempt["route_id"]) == (p_nyc, r_nyc)
    assert attempt["request_uri"] == f"sip:{NYC}@{nyc.target}"
    assert attempt["sip_status_code"] == 200 and attempt["tm_end"]


async def test_customer_routes_beat_default_routes(
    api: aiohttp.ClientSession,
    routing: RouteDriver,
    caller: Caller,
    accounts: AccountFactory,
    carrier: CarrierFactory,
) -> None:
    async with carrier("default", ANSWER) as default, carrier("own", ANSWER) as own:
        # The default customer's longer prefix loses to the caller's own `all`.
        await routing.route(await sip_provider(routing, default), "+1", routing.default_customer)
        await routing.route(await sip_provider(routing, own), "all", caller.customer_id)
        await _answered(api, caller, NYC)
        await invited(own, NYC)
        # A customer without routes of its own gets the default ones.
        stranger = await accounts(Permission.CUSTOMER_MANAGER)
        await _answered(api, stranger, LA)
        await invited(default, LA)
        assert [len(invites(default)), len(invites(own))] == [1, 1]


async def test_priority_decides_within_a_prefix(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    async with carrier("second", ANSWER) as second, carrier("first", ANSWER) as first:
        late = await routing.route(
            await sip_provider(routing, second), "+1", caller.customer_id, priority=2
        )
        await routing.route(
            await sip_provider(routing, first), "+1", caller.customer_id, priority=1
        )
        await _answered(api, caller, NYC)
        await invited(first, NYC)
        assert invites(second) == []
        # Priority is editable; the next call follows it.
        await routing.call("PUT", f"/v1/routes/{late}", {"priority": 0})
        await _answered(api, caller, LA)
        await invited(second, LA)
        assert len(invites(first)) == 1


async def test_deleted_routes_and_providers_drop_out(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    async with carrier("a", ANSWER) as a, carrier("b", ANSWER) as b, carrier("c", ANSWER) as c:
        route_a = await routing.route(
            await sip_provider(routing, a), "+1", caller.customer_id, priority=1
        )
        provider_b = await sip_provider(routing, b)
        await routing.route(provider_b, "+1", caller.customer_id, priority=2)
        await routing.route(await sip_provider(routing, c), "+1", caller.customer_id, priority=3)

        await routing.call("DELETE", f"/v1/routes/{route_a}")
        call = await _answered(api, caller, NYC)
        await invited(b, NYC)
        await routing.call("DELETE", f"/v1/providers/{provider_b}")
        await _answered(api, caller, LA)
        await invited(c, LA)
        assert [len(invites(x)) for x in (a, b, c)] == [0, 1, 1]
    # The candidates a call had are kept on it, in try order.
    assert call["metadata"]["route_provider_ids"][0] == provider_b


async def test_an_unhealthy_provider_goes_last_but_is_used_when_alone(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    async with carrier("sick", ANSWER) as sick, carrier("well", ANSWER) as well:
        p_sick = await sip_provider(routing, sick)
        await routing.route(p_sick, "+1", caller.customer_id, priority=1)
        well_route = await routing.route(
            await sip_provider(routing, well), "+1", caller.customer_id, priority=2
        )
        await routing.set_health(p_sick, "unhealthy")
        call = await _answered(api, caller, NYC)
        await invited(well, NYC)
        assert invites(sick) == []
        ids = call["metadata"]["route_provider_ids"]
        assert ids[-1] == p_sick  # still a candidate, behind the healthy one

        await routing.call("DELETE", f"/v1/routes/{well_route}")
        alone = await _answered(api, caller, LA)
        await invited(sick, LA)
    assert alone["provider_id"] == p_sick


async def test_the_call_shows_its_provider_while_it_runs(
    api: aiohttp.ClientSession, routing: RouteDriver, caller: Caller, carrier: CarrierFactory
) -> None:
    async with carrier("only", ANSWER) as only:
        provider = await sip_provider(routing, only)
        route = await routing.route(provider, "all", caller.customer_id)
        call_id = await place(api, caller, LONDON)
        fetched = await get_json(api, f"/v1.0/calls/{call_id}", caller.operator)
        # The first attempt is on the call from its creation, before any SIP answer.
        assert fetched["provider_id"] == provider
        assert [(a["provider_id"], a["route_id"]) for a in fetched["attempts"]] == [
            (provider, route)
        ]
        await wait_call(api, caller.headers, call_id, "hangup")
