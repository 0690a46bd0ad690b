"""Every active target's latest probe state, for an operator's fleet board."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from health_checker.settings import SCHEMA

# The newest history row of a target sits in the slot its last recorded probe took.
_BOARD = text(
    f"""
    SELECT t.provider_id::text, t.last_status, t.last_checked_at, t.consecutive_failures,
           h.rtt_ms
    FROM {SCHEMA}.probe_targets AS t
    LEFT JOIN {SCHEMA}.probe_history AS h
        ON h.provider_id = t.provider_id AND t.probes_total > 0
       AND h.slot = ((t.probes_total - 1) % 100)::smallint
    WHERE t.tm_delete IS NULL
    """
)


class BoardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all_targets(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self._session.execute(_BOARD)]
