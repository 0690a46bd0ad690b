"""Health results from the health-checker: stored while still about the provider's current
hostname, announced (provider_health_changed) only when the status actually changes, so a
steady fleet is quiet on the bus."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from shared.contracts.health import ProviderHealthApplied, ProviderHealthBatch
from shared.errors import invalid_argument
from shared.events import add_events, publishing
from shared.timefmt import parse, render
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provider_manager.models import provider_wire
from provider_manager.repositories.health import HealthRepository, HealthWrite
from provider_manager.settings import SERVICE
from provider_manager.tables import outbox

HEALTH_CHANGED = "provider_health_changed"


def latest_per_provider(batch: ProviderHealthBatch) -> list[HealthWrite]:
    """One write per provider (the newest check wins); bad ids/times are a 400."""
    latest: dict[str, HealthWrite] = {}
    for i, item in enumerate(batch.results):
        try:
            checked_at = parse(item.checked_at)
        except ValueError:
            raise invalid_argument(f"results.{i}.checked_at", "is not a timestamp") from None
        try:
            provider_id = str(uuid.UUID(item.provider_id))
        except ValueError:
            raise invalid_argument(f"results.{i}.provider_id", "is not a UUID") from None
        write = HealthWrite(provider_id, item.hostname, item.status, checked_at)
        known = latest.get(provider_id)
        if known is None or known.checked_at <= checked_at:
            latest[provider_id] = write
    return list(latest.values())


class HealthService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None] | None
    ) -> None:
        self._sessions = sessions
        self._wake = wake

    async def apply(self, batch: ProviderHealthBatch) -> ProviderHealthApplied:
        writes = latest_per_provider(batch)
        async with publishing(self._sessions, self._wake) as session:
            repository = HealthRepository(session)
            applied = await repository.apply(writes)
            old = {a.provider_id: a.old_status for a in applied if a.old_status != a.new_status}
            changes = [
                (HEALTH_CHANGED, health_changed_data(row, old[str(row["id"])]))
                for row in await repository.rows(list(old))
            ]
            await add_events(session, outbox, SERVICE, changes)
        return ProviderHealthApplied(
            applied=len(applied),
            changed=len(changes),
            ignored=len(batch.results) - len(applied),
        )


def health_changed_data(row: RowMapping, old_status: str) -> dict[str, Any]:
    provider = provider_wire(row)
    return {
        "provider_id": provider["id"],
        "hostname": provider["hostname"],
        "old_status": old_status,
        "new_status": provider["health_status"],
        "checked_at": render(row["health_checked_at"]),
        "provider": provider,
    }
