"""The probe state of the whole fleet in one reply (the console's board loads it once, then
follows `provider_probes_recorded` events)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.timefmt import render
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.records import CheckedTarget, RecordedTarget
from health_checker.repositories.board import BoardRepository

PROBES_RECORDED = "provider_probes_recorded"


class BoardService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def targets(self) -> list[dict[str, Any]]:
        async with self._sessions() as session:
            rows = await BoardRepository(session).all_targets()
        return [board_row(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def board_row(
    provider_id: str,
    status: str,
    checked_at: object,
    consecutive_failures: int,
    rtt_ms: float | None,
) -> dict[str, Any]:
    return {
        "provider_id": provider_id,
        "status": status,
        "checked_at": render(checked_at) if isinstance(checked_at, datetime) else None,
        "consecutive_failures": consecutive_failures,
        "rtt_ms": None if rtt_ms is None else round(rtt_ms, 3),
    }


def probes_recorded_data(
    batch: Sequence[CheckedTarget], recorded: Sequence[RecordedTarget]
) -> dict[str, Any]:
    """The event of one recorded batch: each current target's new probe state."""
    reports = {item.target.provider_id: item for item in batch}
    rows = []
    for target in recorded:
        item = reports.get(target.provider_id)
        if item is None or not target.current or target.deleted:
            continue
        rows.append(
            board_row(
                target.provider_id,
                item.report.status,
                item.checked_at,
                target.consecutive_failures,
                item.report.rtt_ms,
            )
        )
    return {"results": rows}
