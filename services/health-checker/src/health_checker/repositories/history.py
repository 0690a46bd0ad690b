"""Probe history rows (a ring of the last 100 per provider)."""

from __future__ import annotations

from shared.contracts.health import HISTORY_LIMIT
from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from health_checker.tables import probe_history


class HistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def recent(self, provider_id: str, limit: int = HISTORY_LIMIT) -> list[RowMapping]:
        """Newest first; the ring holds at most HISTORY_LIMIT rows per provider."""
        query = (
            select(probe_history)
            .where(probe_history.c.provider_id == provider_id)
            .order_by(probe_history.c.checked_at.desc(), probe_history.c.slot.desc())
            .limit(limit)
        )
        return list((await self._session.execute(query)).mappings().all())
