"""Fleet-wide gauges, refreshed from the shared target table after each round."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.metrics import PROVIDERS_BY_STATUS, FailureGauge
from health_checker.repositories.targets import TargetRepository
from health_checker.services.scheduler import RoundStats

STATUSES = ("unknown", "healthy", "unhealthy")


class FleetGauges:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], failures: FailureGauge) -> None:
        self._sessions = sessions
        self._failures = failures

    async def refresh(self, _: RoundStats | None = None) -> None:
        async with self._sessions() as session:
            repo = TargetRepository(session)
            counts = await repo.count_by_status()
            # Another replica may have consumed the deletion: drop those series here too.
            deleted = await repo.deleted_among(sorted(self._failures.labelled))
        for status in STATUSES:
            PROVIDERS_BY_STATUS.labels(status).set(counts.get(status, 0))
        for provider_id in deleted:
            self._failures.forget(provider_id)
