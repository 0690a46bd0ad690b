"""The scheduler's view of the target table: claims, each in its own short transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.records import Target
from health_checker.repositories.targets import TargetRepository


class SqlTargetClaims:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        replica: str,
        interval: float,
        jitter: float,
    ) -> None:
        self._sessions = sessions
        self.replica = replica
        self.interval = interval
        self.jitter = jitter

    async def db_now(self) -> datetime:
        # The database's clock, not ours: next_due_at is written with now() over there.
        async with self._sessions() as session:
            return await TargetRepository(session).db_now()

    async def claim_due(self, cutoff: datetime, limit: int) -> list[Target]:
        async with self._sessions() as session, session.begin():
            return await TargetRepository(session).claim_due(
                cutoff, limit, self.replica, self.interval, self.jitter
            )

    async def claim_one(self, provider_id: str) -> Target | None:
        async with self._sessions() as session, session.begin():
            return await TargetRepository(session).claim_one(
                provider_id, self.replica, self.interval, self.jitter
            )
