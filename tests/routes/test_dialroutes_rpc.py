"""Dial-route resolution over RPC (GET /v1/dialroutes), as the call-manager asks it.

Each test has its own provider-manager with a random default route customer (the `routing`
fixture), so default routes never leak between tests.
"""

from __future__ import annotations

import uuid

import pytest
from shared.contracts.routes import DialrouteList
from shared.errors import ErrorStatus

from tests.support.routes import RouteDriver, new_customer

NYC = "+12125551234"
LA = "+13105551234"
LONDON = "+442071234567"


async def test_longest_prefix_beats_country_code_beats_all(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    nyc = await pm.route(await pm.provider("nyc"), "+1212", customer)
    usa = await pm.route(await pm.provider("usa"), "+1", customer)
    anywhere = await pm.route(await pm.provider("any"), "all", customer)

    assert await pm.route_ids(customer, NYC) == [nyc, anywhere]
    assert await pm.route_ids(customer, LA) == [usa, anywhere]
    assert await pm.route_ids(customer, LONDON) == [anywhere]


async def test_customer_routes_beat_default_routes(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    default = pm.default_customer
    d_all = await pm.route(await pm.provider(), "all", default)
    d_nyc = await pm.route(await pm.provider(), "+1212", default)
    d_usa = await pm.route(await pm.provider(), "+1", default)  # hidden by the default +1212
    c_all = await pm.route(await pm.provider(), "all", customer)
    c_usa = await pm.route(await pm.provider(), "+1", customer)

    reply = await pm.resolve(customer, NYC)
    assert [(c["route_id"], c["group"]) for c in reply["result"]] == [
        (c_usa, "customer_prefix"),
        (c_all, "customer_all"),
        (d_nyc, "default_prefix"),
        (d_all, "default_all"),
    ]
    assert d_usa not in {c["route_id"] for c in reply["result"]}
    # A customer without routes of its own gets the default ones.
    assert await pm.route_ids(new_customer(), LA) == [d_usa, d_all]


async def test_priority_then_tm_create(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    second = await pm.route(await pm.provider(), "+1", customer, priority=2)
    first_a = await pm.route(await pm.provider(), "+1", customer, priority=1)
    first_b = await pm.route(await pm.provider(), "+1", customer, priority=1)
    zeroth = await pm.route(await pm.provider(), "+1", customer, priority=-1)
    reply = await pm.resolve(customer, NYC)
    assert [c["route_id"] for c in reply["result"]] == [zeroth, first_a, first_b, second]
    assert [c["priority"] for c in reply["result"]] == [-1, 1, 1, 2]

    # Priority is editable; the order follows.
    await pm.call("PUT", f"/v1/routes/{second}", {"priority": -5})
    assert await pm.route_ids(customer, NYC) == [second, zeroth, first_a, first_b]


async def test_a_provider_appears_once_at_its_first_place(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    shared, other = await pm.provider(), await pm.provider()
    in_prefix = await pm.route(shared, "+1", customer, priority=9)
    other_prefix = await pm.route(other, "+1", customer, priority=1)
    await pm.route(shared, "all", customer)
    await pm.route(other, "all", pm.default_customer)
    reply = await pm.resolve(customer, NYC)
    assert [c["route_id"] for c in reply["result"]] == [other_prefix, in_prefix]
    assert [c["provider_id"] for c in reply["result"]] == [other, shared]


async def test_deleted_routes_and_providers_drop_out(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    gone_provider = await pm.provider()
    a = await pm.route(await pm.provider(), "+1", customer, priority=1)
    b = await pm.route(gone_provider, "+1", customer, priority=2)
    c = await pm.route(await pm.provider(), "+1", customer, priority=3)
    assert await pm.route_ids(customer, NYC) == [a, b, c]

    await pm.call("DELETE", f"/v1/routes/{a}")
    assert await pm.route_ids(customer, NYC) == [b, c]
    await pm.call("DELETE", f"/v1/providers/{gone_provider}")
    assert await pm.route_ids(customer, NYC) == [c]
    # The route itself is kept (no cascade): it is only no longer a candidate.
    assert (await pm.call("GET", f"/v1/routes/{b}"))["tm_delete"] == "9999-01-01 00:00:00.000000"


async def test_a_deleted_longer_prefix_uncovers_the_shorter_one(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    nyc_provider = await pm.provider()
    await pm.route(nyc_provider, "+1212", customer)
    usa = await pm.route(await pm.provider(), "+1", customer)
    await pm.call("DELETE", f"/v1/providers/{nyc_provider}")
    assert await pm.route_ids(customer, NYC) == [usa]


async def test_unhealthy_providers_go_last_but_stay(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    sick, well, unknown = await pm.provider(), await pm.provider(), await pm.provider()
    r_sick = await pm.route(sick, "+1", customer, priority=1)
    r_well = await pm.route(well, "+1", customer, priority=2)
    r_unknown = await pm.route(unknown, "all", customer)
    await pm.set_health(sick, "unhealthy")
    await pm.set_health(well, "healthy")

    reply = await pm.resolve(customer, NYC)
    assert [c["route_id"] for c in reply["result"]] == [r_well, r_unknown, r_sick]
    assert [c["provider"]["health_status"] for c in reply["result"]] == [
        "healthy",
        "unknown",
        "unhealthy",
    ]
    # Back to healthy: back in its priority place.
    await pm.set_health(sick, "healthy")
    assert await pm.route_ids(customer, NYC) == [r_sick, r_well, r_unknown]


async def test_the_only_provider_is_returned_even_when_unhealthy(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    provider = await pm.provider()
    only = await pm.route(provider, "+44", customer)
    await pm.set_health(provider, "unhealthy")
    assert await pm.route_ids(customer, LONDON) == [only]


async def test_reply_carries_what_the_call_manager_dials_with(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    provider = await pm.call(
        "POST",
        "/v1/providers",
        {
            "type": "sip",
            "hostname": "sip.carrier.example.com:5070",
            "name": "carrier",
            "tech_prefix": "9",
            "tech_postfix": ";npdi",
            "tech_headers": {"X-Account": "42"},
            "transport": "tcp",
            "auth_username": "trunk-1",
            "auth_password": "never-in-this-reply",
        },
    )
    route_id = await pm.route(provider["id"], "+1212", customer, priority=4)
    reply = await pm.resolve(customer, NYC)
    # The wire model the call-manager parses the reply with accepts it as it is.
    assert DialrouteList.model_validate(reply).model_dump() == reply
    assert reply == {
        "customer_id": customer,
        "target": NYC,
        "result": [
            {
                "route_id": route_id,
                "route_target": "+1212",
                "priority": 4,
                "group": "customer_prefix",
                "provider_id": provider["id"],
                "provider": {
                    "id": provider["id"],
                    "type": "sip",
                    "name": "carrier",
                    "hostname": "sip.carrier.example.com:5070",
                    "tech_prefix": "9",
                    "tech_postfix": ";npdi",
                    "tech_headers": {"X-Account": "42"},
                    "health_status": "unknown",
                    "health_checked_at": None,
                    # The password is fetched separately, only when a carrier challenges.
                    "transport": "tcp",
                    "auth_username": "trunk-1",
                    "auth_password_set": True,
                },
            }
        ],
    }
    assert "never-in-this-reply" not in str(reply)


async def test_json_body_and_unencoded_plus_are_accepted(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    route_id = await pm.route(await pm.provider(), "+1", customer)
    by_body = await pm.call("GET", "/v1/dialroutes", {"customer_id": customer, "target": NYC})
    # A raw "+" in a query string decodes to a space; it can only have meant the plus.
    raw_plus = await pm.call("GET", f"/v1/dialroutes?customer_id={customer}&target={NYC}")
    by_query = await pm.resolve(customer.upper(), NYC)
    assert by_body == raw_plus == by_query
    assert [c["route_id"] for c in by_body["result"]] == [route_id]


async def test_no_route_is_404_no_route(routing: RouteDriver) -> None:
    pm, customer = routing, new_customer()
    error = await pm.refused("GET", pm.dialroutes_uri(customer, NYC))
    assert (error.status, error.reason) == (ErrorStatus.NOT_FOUND, "NO_ROUTE")
    assert NYC in error.message and customer in error.message
    assert error.details == {"customer_id": customer, "target": NYC}

    # Routes elsewhere (another prefix, another customer) do not help.
    await pm.route(await pm.provider(), "+44", customer)
    await pm.route(await pm.provider(), "all", new_customer())
    error = await pm.refused("GET", pm.dialroutes_uri(customer, NYC))
    assert error.reason == "NO_ROUTE"


@pytest.mark.parametrize(
    "number", ["12125551234", "+121255", "+1234567890123456", "+1212555123a", "", "+"]
)
async def test_bad_number_is_400_naming_target(routing: RouteDriver, number: str) -> None:
    error = await routing.refused("GET", routing.dialroutes_uri(new_customer(), number))
    assert error.status is ErrorStatus.INVALID_ARGUMENT
    assert error.details == {"field": "target"}


async def test_customer_is_required(routing: RouteDriver) -> None:
    for uri in (f"/v1/dialroutes?target=%2B{NYC[1:]}", "/v1/dialroutes?customer_id=x&target=%2B1"):
        error = await routing.refused("GET", uri)
        assert error.details == {"field": "customer_id"}
    error = await routing.refused("GET", "/v1/dialroutes", {"customer_id": str(uuid.uuid4())})
    assert error.details == {"field": "target"}
