"""Reading a provider's probe history."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.models import health_check_wire
from health_checker.repositories.history import HistoryRepository


class HistoryService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def recent(self, provider_id: str) -> list[dict[str, Any]]:
        """The last 100 probes, newest first; empty for a provider never probed."""
        async with self._sessions() as session:
            rows = await HistoryRepository(session).recent(provider_id)
        return [health_check_wire(row) for row in rows]
