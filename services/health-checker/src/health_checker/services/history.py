"""Reading a provider's probe history."""

from __future__ import annotations

from typing import Any

from shared.pagination import PageCursor, page_token
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.models import health_check_wire
from health_checker.repositories.history import HistoryRepository


class HistoryService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def page(
        self, provider_id: str, page_size: int, cursor: PageCursor | None
    ) -> dict[str, Any]:
        """A page of the last 100 probes, newest first; empty for a provider never probed."""
        async with self._sessions() as session:
            rows = await HistoryRepository(session).page(provider_id, page_size, cursor)
        token = page_token(rows[-1]["checked_at"]) if rows else ""
        return {"result": [health_check_wire(row) for row in rows], "next_page_token": token}
