"""The Provider REST API end to end: gateway -> RabbitMQ RPC -> provider-manager -> PostgreSQL,
with exactly the seeds' JSON shapes, soft delete, the hostname reset and one event per change.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
from provider_manager.app import ProviderManagerApp
from sqlalchemy import text

from tests.support.events import EventCollector
from tests.support.providers import (
    NEVER,
    TIMESTAMP,
    assert_provider_shape,
    provider_body,
)

Headers = dict[str, str]


async def _json(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    headers: Headers,
    body: Any = None,
    status: int = 200,
) -> Any:
    async with http.request(method, path, json=body, headers=headers) as resp:
        payload = await resp.json()
        assert resp.status == status, payload
        return payload


async def test_create_read_update_list_delete(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    body = provider_body(tech_headers={"X-Custom-Header": "value"}, tech_prefix="1")
    created = await _json(http, "POST", "/v1.0/providers", admin_headers, body)
    assert_provider_shape(created)
    for field, value in body.items():
        assert created[field] == value, field
    assert created["metadata"] == {}
    assert created["health_status"] == "unknown"
    assert created["health_checked_at"] is None
    assert created["tm_delete"] == NEVER
    assert created["tm_create"] == created["tm_update"]
    path = f"/v1.0/providers/{created['id']}"

    assert await _json(http, "GET", path, admin_headers) == created
    # The path id is normalized: upper case is the same provider.
    assert (
        await _json(
            http, "GET", path.upper().replace("/V1.0/PROVIDERS", "/v1.0/providers"), admin_headers
        )
        == created
    )

    # The seeds' update example: the whole object again, with changes.
    change = provider_body(hostname=body["hostname"], name="telnyx basic", detail="changed")
    updated = await _json(http, "PUT", path, admin_headers, change)
    assert_provider_shape(updated)
    assert (updated["name"], updated["detail"]) == ("telnyx basic", "changed")
    assert updated["tech_headers"] == {}
    assert updated["tech_prefix"] == ""
    assert updated["tm_create"] == created["tm_create"]
    assert updated["tm_update"] > created["tm_update"]
    assert await _json(http, "GET", path, admin_headers) == updated

    # A partial PUT changes only what it names.
    partial = await _json(http, "PUT", path, admin_headers, {"tech_postfix": ";x=1"})
    assert partial == {**updated, "tech_postfix": ";x=1", "tm_update": partial["tm_update"]}

    listed = await _json(http, "GET", "/v1.0/providers?page_size=100", admin_headers)
    assert set(listed) == {"result", "next_page_token"}
    mine = [p for p in listed["result"] if p["id"] == created["id"]]
    assert mine == [partial]
    for item in listed["result"]:
        assert_provider_shape(item)

    deleted = await _json(http, "DELETE", path, admin_headers)
    assert_provider_shape(deleted, deleted=True)
    assert TIMESTAMP.match(deleted["tm_delete"])
    assert deleted["tm_delete"] >= partial["tm_update"]
    assert {k: v for k, v in deleted.items() if k not in ("tm_update", "tm_delete")} == {
        k: v for k, v in partial.items() if k not in ("tm_update", "tm_delete")
    }


async def test_soft_delete(http: aiohttp.ClientSession, admin_headers: Headers) -> None:
    created = await _json(http, "POST", "/v1.0/providers", admin_headers, provider_body())
    path = f"/v1.0/providers/{created['id']}"
    deleted = await _json(http, "DELETE", path, admin_headers)
    assert deleted["tm_delete"] != NEVER

    # GET by id still answers, with the real tm_delete.
    assert await _json(http, "GET", path, admin_headers) == deleted
    # A second DELETE and any PUT are 404; nothing changes.
    again = await _json(http, "DELETE", path, admin_headers, status=404)
    assert again["error"]["status"] == "NOT_FOUND"
    assert again["error"]["reason"] == "PROVIDER_NOT_FOUND"
    await _json(http, "PUT", path, admin_headers, {"name": "zombie"}, status=404)
    assert await _json(http, "GET", path, admin_headers) == deleted

    # Lists exclude it, on every page.
    token = ""
    while True:
        page = await _json(
            http, "GET", f"/v1.0/providers?page_size=100&page_token={token}", admin_headers
        )
        assert created["id"] not in {p["id"] for p in page["result"]}
        token = page["next_page_token"]
        if not token:
            break


async def test_unknown_provider_is_404(http: aiohttp.ClientSession, admin_headers: Headers) -> None:
    path = f"/v1.0/providers/{uuid.uuid4()}"
    for method, body in (("GET", None), ("PUT", {"name": "x"}), ("DELETE", None)):
        error = await _json(http, method, path, admin_headers, body, status=404)
        assert error["error"]["reason"] == "PROVIDER_NOT_FOUND"


READ_ONLY: dict[str, Any] = {
    "id": "00000000-0000-4000-8000-000000000000",
    "metadata": {"telnyx_profile_id": "2944757397136082899"},
    "health_status": "healthy",
    "health_checked_at": "2026-04-20 03:15:00.000000",
    "tm_create": "2022-10-22 16:16:16.874761",
    "tm_update": "2022-10-24 04:53:14.171374",
    "tm_delete": "2023-01-01 00:00:00.000000",
}


async def test_read_only_fields_are_ignored(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    body = provider_body()
    created = await _json(http, "POST", "/v1.0/providers", admin_headers, {**body, **READ_ONLY})
    assert created["id"] != READ_ONLY["id"]
    assert created["metadata"] == {}
    assert created["health_status"] == "unknown"
    assert created["health_checked_at"] is None
    assert created["tm_delete"] == NEVER
    assert created["tm_create"] > READ_ONLY["tm_update"]
    assert created["hostname"] == body["hostname"]

    path = f"/v1.0/providers/{created['id']}"
    updated = await _json(http, "PUT", path, admin_headers, {**READ_ONLY, "name": "ro"})
    assert updated["name"] == "ro"
    for field in ("id", "metadata", "health_status", "health_checked_at", "tm_create"):
        assert updated[field] == created[field], field
    assert updated["tm_delete"] == NEVER
    # Sending only read-only fields is a no-op update, not a 400.
    same = await _json(http, "PUT", path, admin_headers, READ_ONLY)
    assert {k: v for k, v in same.items() if k != "tm_update"} == {
        k: v for k, v in updated.items() if k != "tm_update"
    }
    assert (
        await _json(http, "GET", f"/v1.0/providers/{READ_ONLY['id']}", admin_headers, status=404)
    )["error"]["status"] == "NOT_FOUND"


async def _set_health(app: ProviderManagerApp, provider_id: str) -> None:
    async with app.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE provider_manager.providers SET health_status = 'healthy',"
                " health_checked_at = '2026-04-20 03:15:00+00' WHERE id = :id"
            ),
            {"id": provider_id},
        )


async def test_hostname_change_resets_health(
    http: aiohttp.ClientSession,
    admin_headers: Headers,
    provider_manager: ProviderManagerApp,
    events: EventCollector,
) -> None:
    created = await _json(http, "POST", "/v1.0/providers", admin_headers, provider_body())
    path = f"/v1.0/providers/{created['id']}"
    await _set_health(provider_manager, created["id"])
    healthy = await _json(http, "GET", path, admin_headers)
    assert healthy["health_status"] == "healthy"
    assert healthy["health_checked_at"] == "2026-04-20 03:15:00.000000"

    # Other fields, and the same hostname again, leave the health alone.
    kept = await _json(
        http, "PUT", path, admin_headers, {"name": "n2", "hostname": created["hostname"]}
    )
    assert (kept["health_status"], kept["health_checked_at"]) == (
        "healthy",
        "2026-04-20 03:15:00.000000",
    )

    moved = await _json(http, "PUT", path, admin_headers, {"hostname": "sip.moved.example.com"})
    assert moved["hostname"] == "sip.moved.example.com"
    assert moved["health_status"] == "unknown"
    assert moved["health_checked_at"] is None
    assert await _json(http, "GET", path, admin_headers) == moved
    # The event carries the reset record too.
    found = await events.wait_for("provider_updated", count=2, id=created["id"])
    assert found[-1]["data"] == moved


async def test_each_mutation_emits_exactly_one_event(
    http: aiohttp.ClientSession, admin_headers: Headers, events: EventCollector
) -> None:
    async with http.post("/v1.0/providers", json=provider_body(), headers=admin_headers) as resp:
        created = await resp.json()
        create_rid = resp.headers["X-Request-ID"]
    path = f"/v1.0/providers/{created['id']}"
    updated = await _json(http, "PUT", path, admin_headers, {"name": "evented"})
    deleted = await _json(http, "DELETE", path, admin_headers)
    # Reads and failures emit nothing.
    await _json(http, "GET", path, admin_headers)
    await _json(http, "PUT", path, admin_headers, {"name": "x"}, status=404)
    await _json(http, "DELETE", path, admin_headers, status=404)
    await _json(http, "POST", "/v1.0/providers", admin_headers, {"type": "x"}, status=400)

    # The relay publishes in commit order: once provider_deleted is here, the rest is too.
    await events.wait_for("provider_deleted", id=created["id"])
    mine = [e for e in events.events if (e.get("data") or {}).get("id") == created["id"]]
    assert [e["type"] for e in mine] == ["provider_created", "provider_updated", "provider_deleted"]
    for event, record in zip(mine, (created, updated, deleted), strict=True):
        assert event["data"] == record
        assert event["publisher"] == "provider-manager"
        assert event["data_type"] == "application/json"
        assert uuid.UUID(event["id"])
        assert TIMESTAMP.match(event["timestamp"])
    assert len({e["id"] for e in mine}) == 3
    # The request id the gateway gave the HTTP request travelled through RPC into the event.
    assert mine[0]["request_id"] == create_rid


async def test_request_id_is_echoed_or_assigned(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    given = f"client-{uuid.uuid4().hex}"
    async with http.get(
        "/v1.0/providers?page_size=1", headers={**admin_headers, "X-Request-ID": given}
    ) as resp:
        assert resp.headers["X-Request-ID"] == given
    # An unsafe id is replaced, not reflected.
    async with http.get(
        "/v1.0/providers?page_size=1", headers={**admin_headers, "X-Request-ID": "a b<script>"}
    ) as resp:
        assert uuid.UUID(resp.headers["X-Request-ID"])
