"""provider-manager's POST /v1/providers/health, driven directly (no health-checker running),
so every race the health-checker can produce is played deterministically."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from provider_manager.app import ProviderManagerApp
from shared.errors import AppError
from shared.rpc import RpcClient
from shared.timefmt import render, utcnow
from sqlalchemy import text

from tests.support.events import EventCollector
from tests.support.polling import eventually
from tests.support.providers import ProviderApi

URI = "/v1/providers/health"


def result(provider: dict[str, Any], status: str, checked_at: str | None = None) -> dict[str, Any]:
    """A write-back item about the provider's hostname as given (probed at `checked_at`)."""
    return {
        "provider_id": provider["id"],
        "hostname": provider["hostname"],
        "status": status,
        "checked_at": checked_at or render(utcnow()),
    }


WriteBack = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def write(
    provider_manager: ProviderManagerApp, rpc: RpcClient, queues: dict[str, str]
) -> WriteBack:
    """`await write(*results)` -> the session's provider-manager's reply to one batch."""

    async def post(*results: dict[str, Any]) -> dict[str, Any]:
        body = {"results": list(results)}
        reply: dict[str, Any] = await rpc.request(queues["provider-manager"], "POST", URI, body)
        return reply

    return post


async def test_a_result_sets_status_and_checked_at(
    write: WriteBack,
    providers: ProviderApi,
) -> None:
    provider = await providers.create("carrier-a.example.com")
    checked_at = render(utcnow())
    reply = await write(result(provider, "healthy", checked_at=checked_at))
    assert reply == {"applied": 1, "changed": 1, "ignored": 0}
    stored = await providers.get(provider["id"])
    assert stored["health_status"] == "healthy"
    assert stored["health_checked_at"] == checked_at
    # Health is not configuration: tm_update stays as the last PUT left it.
    assert stored["tm_update"] == provider["tm_update"]


async def test_a_result_for_the_old_hostname_never_overwrites_the_reset(
    write: WriteBack,
    providers: ProviderApi,
) -> None:
    provider = await providers.create("old-host.example.com")
    await write(result(provider, "healthy"))
    slow_probe_of_old_host = result(provider, "unhealthy")  # concluded after the change

    changed = await providers.update(provider["id"], hostname="new-host.example.com")
    assert changed["health_status"] == "unknown"
    assert changed["health_checked_at"] is None

    reply = await write(slow_probe_of_old_host)
    assert reply == {"applied": 0, "changed": 0, "ignored": 1}
    stored = await providers.get(provider["id"])
    assert stored["health_status"] == "unknown"
    assert stored["health_checked_at"] is None

    await write(result(stored, "healthy"))
    assert (await providers.get(provider["id"]))["health_status"] == "healthy"


async def test_an_older_result_does_not_replace_a_newer_one(
    write: WriteBack,
    providers: ProviderApi,
) -> None:
    provider = await providers.create("ordering.example.com")
    now = utcnow()
    await write(result(provider, "healthy", checked_at=render(now)))
    late = result(provider, "unhealthy", checked_at=render(now - timedelta(seconds=5)))
    assert (await write(late))["ignored"] == 1
    assert (await providers.get(provider["id"]))["health_status"] == "healthy"


async def test_deleted_and_unknown_providers_are_ignored(
    write: WriteBack,
    providers: ProviderApi,
) -> None:
    gone = await providers.create("gone.example.com")
    await providers.delete(gone["id"])
    never = {**gone, "id": "00000000-0000-4000-8000-000000000000"}
    reply = await write(result(gone, "healthy"), result(never, "healthy"))
    assert reply == {"applied": 0, "changed": 0, "ignored": 2}
    assert (await providers.get(gone["id"]))["health_status"] == "unknown"


async def test_one_batch_applies_many_and_keeps_the_newest_per_provider(
    write: WriteBack,
    providers: ProviderApi,
) -> None:
    batch = [await providers.create(f"batch-{i}.example.com") for i in range(5)]
    now = utcnow()
    results = [result(p, "healthy", checked_at=render(now)) for p in batch]
    # A second, newer result for the first provider in the same batch wins.
    results.append(
        result(batch[0], "unhealthy", checked_at=render(now + timedelta(milliseconds=1)))
    )
    reply = await write(*results)
    assert reply == {"applied": 5, "changed": 5, "ignored": 1}
    statuses = [(await providers.get(p["id"]))["health_status"] for p in batch]
    assert statuses == ["unhealthy", "healthy", "healthy", "healthy", "healthy"]


async def test_provider_health_changed_is_published_only_on_a_change(
    provider_manager: ProviderManagerApp,
    write: WriteBack,
    providers: ProviderApi,
    events: EventCollector,
) -> None:
    provider = await providers.create("events.example.com")
    pid = provider["id"]
    for status in ("healthy", "healthy", "healthy", "unhealthy", "unhealthy", "healthy"):
        await write(result(provider, status))

    changes = await events.wait_for("provider_health_changed", count=3, provider_id=pid)
    # Let the relay publish anything still queued before asserting nothing else came.
    await eventually(
        lambda: _outbox_empty(provider_manager), 5.0, message="provider-manager outbox drained"
    )
    changes = events.of_type("provider_health_changed", provider_id=pid)
    assert [(e["data"]["old_status"], e["data"]["new_status"]) for e in changes] == [
        ("unknown", "healthy"),
        ("healthy", "unhealthy"),
        ("unhealthy", "healthy"),
    ]
    first = changes[0]["data"]
    assert first["hostname"] == "events.example.com"
    assert first["checked_at"] == first["provider"]["health_checked_at"]
    assert first["provider"]["id"] == pid
    assert first["provider"]["health_status"] == "healthy"
    assert changes[0]["publisher"] == "provider-manager"
    # Health writes are not configuration updates.
    assert events.of_type("provider_updated", id=pid) == []


async def _outbox_empty(app: ProviderManagerApp) -> bool:
    async with app.engine.connect() as conn:
        count = (
            await conn.execute(text("SELECT count(*) FROM provider_manager.outbox"))
        ).scalar_one()
    return bool(count == 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "results": [
                    {
                        "provider_id": "x",
                        "hostname": "h",
                        "status": "healthy",
                        "checked_at": "2026-01-01 00:00:00.000000",
                    }
                ]
            },
            "results.0.provider_id",
        ),
        (
            {
                "results": [
                    {
                        "provider_id": "00000000-0000-4000-8000-000000000000",
                        "hostname": "h",
                        "status": "up",
                        "checked_at": "2026-01-01 00:00:00.000000",
                    }
                ]
            },
            "results.0.status",
        ),
        (
            {
                "results": [
                    {
                        "provider_id": "00000000-0000-4000-8000-000000000000",
                        "hostname": "h",
                        "status": "healthy",
                        "checked_at": "yesterday",
                    }
                ]
            },
            "results.0.checked_at",
        ),
        ({}, "results"),
    ],
)
async def test_malformed_batches_are_refused_naming_the_field(
    provider_manager: ProviderManagerApp,
    rpc: RpcClient,
    queues: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(AppError) as caught:
        await rpc.request(queues["provider-manager"], "POST", URI, body)
    assert caught.value.http_status == 400
    assert (caught.value.details or {}).get("field") == field
