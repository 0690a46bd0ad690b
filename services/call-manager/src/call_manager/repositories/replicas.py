"""Replica heartbeats: who holds live dialogs, and who has stopped beating."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.tables import replicas


class ReplicaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def beat(self, replica_id: str) -> None:
        now = func.clock_timestamp()
        await self._session.execute(
            insert(replicas)
            .values(id=replica_id, heartbeat=now, tm_create=now)
            .on_conflict_do_update(index_elements=[replicas.c.id], set_={"heartbeat": now})
        )

    async def refresh(self, replica_id: str) -> bool:
        """Beat an existing row; False when there is none (we were reaped: fenced)."""
        result = await self._session.execute(
            update(replicas)
            .where(replicas.c.id == replica_id)
            .values(heartbeat=func.clock_timestamp())
            .returning(replicas.c.id)
        )
        return result.first() is not None

    async def lock_dead(self, silent_for: timedelta, exclude: str) -> list[str]:
        """Dead replicas, locked so that two reapers never finish the same calls."""
        result = await self._session.execute(
            select(replicas.c.id)
            .where(
                replicas.c.heartbeat < func.clock_timestamp() - silent_for,
                replicas.c.id != exclude,
            )
            .with_for_update(skip_locked=True)
            .limit(20)
        )
        return [str(r) for r in result.scalars().all()]

    async def remove(self, replica_id: str) -> None:
        await self._session.execute(delete(replicas).where(replicas.c.id == replica_id))
