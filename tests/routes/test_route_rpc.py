"""Route CRUD over RPC on real PostgreSQL and RabbitMQ: validation, soft delete, the provider
check and its lock, events, pages."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from provider_manager.repositories.routes import RouteRepository
from shared.errors import ErrorStatus
from sqlalchemy import text

from tests.support.events import EventCollector
from tests.support.polling import eventually
from tests.support.routes import RouteDriver, new_customer

NEVER = "9999-01-01 00:00:00.000000"
TIMESTAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$"


async def test_crud_and_events_once_each(
    shared_routes: RouteDriver, events: EventCollector
) -> None:
    pm = shared_routes
    customer, provider, other_provider = new_customer(), await pm.provider(), await pm.provider()
    body = {
        "customer_id": customer.upper(),
        "provider_id": provider,
        "target": "+1212",
        "priority": 3,
        "name": "nyc",
        "detail": "New York via carrier A",
    }
    created = await pm.call("POST", "/v1/routes", body)
    route_id = created["id"]
    assert uuid.UUID(route_id).version == 4
    assert {k: created[k] for k in body} == {**body, "customer_id": customer}
    assert created["tm_delete"] == NEVER
    assert re.match(TIMESTAMP, created["tm_create"])
    assert created["tm_create"] == created["tm_update"]
    assert await pm.call("GET", f"/v1/routes/{route_id}") == created

    updated = await pm.call(
        "PUT",
        f"/v1/routes/{route_id}",
        # customer_id is read-only on update; the rest replaces what is stored.
        {"priority": 1, "target": "+1", "provider_id": other_provider, "customer_id": provider},
    )
    assert (updated["priority"], updated["target"], updated["provider_id"]) == (
        1,
        "+1",
        other_provider,
    )
    assert updated["customer_id"] == customer
    assert updated["name"] == "nyc"
    assert updated["tm_update"] > created["tm_update"]

    deleted = await pm.call("DELETE", f"/v1/routes/{route_id}")
    assert deleted["tm_delete"] != NEVER
    assert await pm.call("GET", f"/v1/routes/{route_id}") == deleted
    listed = await pm.call("GET", f"/v1/routes?customer_id={customer}")
    assert listed == {"result": [], "next_page_token": ""}

    for again in ("PUT", "DELETE"):
        error = await pm.refused(again, f"/v1/routes/{route_id}", {"name": "x"})
        assert (error.status, error.reason) == (ErrorStatus.NOT_FOUND, "ROUTE_NOT_FOUND")

    # The relay publishes in outbox order: once route_deleted is here, any duplicate of the
    # earlier events would have arrived before it.
    [gone] = await events.wait_for("route_deleted", id=route_id)
    assert gone["data"] == deleted
    assert gone["publisher"] == "provider-manager"
    assert [e["data"] for e in events.of_type("route_created", id=route_id)] == [created]
    assert [e["data"] for e in events.of_type("route_updated", id=route_id)] == [updated]


async def test_unknown_route_and_bad_id(shared_routes: RouteDriver) -> None:
    error = await shared_routes.refused("GET", f"/v1/routes/{uuid.uuid4()}")
    assert (error.status, error.reason) == (ErrorStatus.NOT_FOUND, "ROUTE_NOT_FOUND")
    error = await shared_routes.refused("GET", "/v1/routes/not-a-uuid")
    assert (error.status, error.reason) == (ErrorStatus.INVALID_ARGUMENT, "INVALID_ID")


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"target": "1"}, "target"),
        ({"target": "+"}, "target"),
        ({"target": "+123456789"}, "target"),
        ({"target": "+12a"}, "target"),
        ({"priority": "1"}, "priority"),
        ({"priority": 1.5}, "priority"),
        ({"provider_id": "nope"}, "provider_id"),
        ({"customer_id": "nope"}, "customer_id"),
        ({"name": 7}, "name"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(
    shared_routes: RouteDriver, override: dict[str, Any], field: str
) -> None:
    pm = shared_routes
    body = {"customer_id": new_customer(), "provider_id": await pm.provider(), "target": "+1"}
    error = await pm.refused("POST", "/v1/routes", {**body, **override})
    assert error.status is ErrorStatus.INVALID_ARGUMENT
    assert error.details == {"field": field}
    assert error.message.startswith(f"{field}: ")


async def test_provider_must_exist_and_be_undeleted(shared_routes: RouteDriver) -> None:
    pm = shared_routes
    customer = new_customer()
    unknown = str(uuid.uuid4())
    error = await pm.refused(
        "POST", "/v1/routes", {"customer_id": customer, "provider_id": unknown, "target": "+1"}
    )
    assert (error.status, error.reason) == (ErrorStatus.NOT_FOUND, "PROVIDER_NOT_FOUND")
    assert error.details == {"field": "provider_id"}

    deleted = await pm.provider()
    await pm.call("DELETE", f"/v1/providers/{deleted}")
    error = await pm.refused(
        "POST", "/v1/routes", {"customer_id": customer, "provider_id": deleted, "target": "+1"}
    )
    assert error.details == {"field": "provider_id"}

    # Repointing an existing route gets the same check; a refused update changes nothing.
    route_id = await pm.route(await pm.provider(), "+1", customer)
    before = await pm.call("GET", f"/v1/routes/{route_id}")
    error = await pm.refused("PUT", f"/v1/routes/{route_id}", {"provider_id": deleted})
    assert error.details == {"field": "provider_id"}
    assert await pm.call("GET", f"/v1/routes/{route_id}") == before
    assert await pm.call("GET", f"/v1/routes?customer_id={customer}") == {
        "result": [before],
        "next_page_token": f"{before['tm_create']},{before['id']}",
    }


async def test_route_survives_its_provider_and_can_still_be_edited(
    shared_routes: RouteDriver,
) -> None:
    """No cascade: the route stays (resolution skips it); a PUT of what was read still works."""
    pm = shared_routes
    provider = await pm.provider()
    route_id = await pm.route(provider, "+44", new_customer())
    await pm.call("DELETE", f"/v1/providers/{provider}")
    route = await pm.call("GET", f"/v1/routes/{route_id}")
    assert route["tm_delete"] == NEVER
    renamed = await pm.call("PUT", f"/v1/routes/{route_id}", {**route, "name": "orphan"})
    assert (renamed["name"], renamed["provider_id"]) == ("orphan", provider)


async def test_a_provider_delete_waits_for_a_route_being_created(
    shared_routes: RouteDriver,
) -> None:
    """The FOR SHARE lock: a provider delete cannot commit between the route's provider check
    and the route's commit."""
    pm = shared_routes
    provider = await pm.provider()
    async with pm.app.sessions() as session, session.begin():
        await RouteRepository(session).share_lock_provider(provider)
        deleting = asyncio.create_task(pm.call("DELETE", f"/v1/providers/{provider}"))

        async def delete_is_waiting() -> bool:
            async with pm.app.engine.connect() as conn:
                waiting = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock' "
                        "AND query LIKE 'UPDATE provider_manager.providers%'"
                    )
                )
            return bool(waiting)

        await eventually(delete_is_waiting, 5.0, message="provider delete blocked on the lock")
        assert not deleting.done()
    deleted = await deleting
    assert deleted["tm_delete"] != NEVER


async def test_redelivered_create_makes_one_route_and_one_event(
    shared_routes: RouteDriver, events: EventCollector
) -> None:
    pm = shared_routes
    message_id = uuid.uuid4().hex
    body = {"customer_id": new_customer(), "provider_id": await pm.provider(), "target": "+33"}
    first = await pm.rpc.request(pm.queue, "POST", "/v1/routes", body, message_id=message_id)
    second = await pm.rpc.request(pm.queue, "POST", "/v1/routes", body, message_id=message_id)
    assert first == second
    assert first["id"] == str(uuid.UUID(message_id))
    page = await pm.call("GET", f"/v1/routes?customer_id={body['customer_id']}")
    assert [r["id"] for r in page["result"]] == [first["id"]]
    await pm.call("DELETE", f"/v1/routes/{first['id']}")
    await events.wait_for("route_deleted", id=first["id"])
    assert len(events.of_type("route_created", id=first["id"])) == 1


async def test_list_filters_by_customer_and_pages_newest_first(
    shared_routes: RouteDriver,
) -> None:
    pm = shared_routes
    customer, other = new_customer(), new_customer()
    provider = await pm.provider()
    mine = [await pm.route(provider, f"+{n}", customer, name=f"r{n}") for n in range(1, 6)]
    theirs = await pm.route(provider, "+1", other)

    seen: list[str] = []
    token = ""
    while True:
        page = await pm.call(
            "GET", f"/v1/routes?customer_id={customer}&page_size=2&page_token={token}"
        )
        assert len(page["result"]) <= 2
        assert all(r["customer_id"] == customer for r in page["result"])
        seen += [r["id"] for r in page["result"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == list(reversed(mine))

    everyone = await pm.call("GET", "/v1/routes?page_size=100")
    assert theirs in {r["id"] for r in everyone["result"]}
    for bad, field in (("customer_id=x", "customer_id"), ("page_size=0", "page_size")):
        error = await pm.refused("GET", f"/v1/routes?{bad}")
        assert error.details == {"field": field}


async def test_omitted_customer_means_the_default_routes_customer(routing: RouteDriver) -> None:
    provider = await routing.provider()
    created = await routing.call("POST", "/v1/routes", {"provider_id": provider, "target": "all"})
    assert created["customer_id"] == routing.default_customer
    assert created["priority"] == 0
    page = await routing.call("GET", f"/v1/routes?customer_id={routing.default_customer}")
    assert [r["id"] for r in page["result"]] == [created["id"]]
