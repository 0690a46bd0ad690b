"""The provider's transport reaches the health-checker's targets (from events), so probes
can use it; a claimed Target carries it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from health_checker.app import HealthCheckerApp
from health_checker.records import ProviderRecord
from health_checker.repositories.targets import TargetRepository

from tests.support.health import target_row
from tests.support.polling import eventually
from tests.support.providers import ProviderApi


async def test_transport_is_carried_to_the_target(
    health_checker: HealthCheckerApp, providers: ProviderApi
) -> None:
    created = await providers.create("192.0.2.10:5070", transport="tcp")

    async def stored(expected: str) -> dict[str, Any] | None:
        row = await target_row(health_checker.engine, created["id"])
        return row if row is not None and row["transport"] == expected else None

    await eventually(lambda: stored("tcp"), 5.0, message="target with transport tcp")
    await providers.update(created["id"], transport="tls")
    await eventually(lambda: stored("tls"), 5.0, message="target with transport tls")


async def test_a_claimed_target_carries_its_transport(health_checker: HealthCheckerApp) -> None:
    provider_id = str(uuid.uuid4())
    record = ProviderRecord(provider_id, "192.0.2.11", datetime.now(UTC), False, "tls")
    # One transaction: the running replica cannot claim the row before we do (SKIP LOCKED).
    async with health_checker.sessions() as session, session.begin():
        repo = TargetRepository(session)
        assert await repo.upsert([record]) == [provider_id]
        target = await repo.claim_one(provider_id, "test-replica", 3600.0, 0.0)
        assert target is not None
        assert (target.hostname, target.transport) == ("192.0.2.11", "tls")
        await repo.tombstone([record])
