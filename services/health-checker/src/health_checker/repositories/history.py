"""Probe history rows (a ring of the last 100 per provider)."""

from __future__ import annotations

from shared.pagination import PageCursor, keyset_page
from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from health_checker.tables import probe_history


class HistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page(
        self, provider_id: str, page_size: int, cursor: PageCursor | None
    ) -> list[RowMapping]:
        """Newest first; the ring holds at most HISTORY_LIMIT rows per provider. Probes of
        one provider are seconds apart, so checked_at alone says where a page stopped."""
        query = keyset_page(
            select(probe_history).where(probe_history.c.provider_id == provider_id),
            probe_history,
            page_size,
            cursor,
            time_column="checked_at",
            id_column=None,
        )
        return list((await self._session.execute(query)).mappings().all())
