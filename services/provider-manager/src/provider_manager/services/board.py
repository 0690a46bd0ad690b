"""The fleet board's view of providers: every active one, only the fields a board shows.

A board of 10,000 providers is one call and ~1.5 MB instead of a hundred pages of full
records; fields added to providers later (registration, transport) are passed on when the
row has them, so the board needs no change here to show them."""

from __future__ import annotations

from typing import Any

from shared.timefmt import render
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from provider_manager.repositories.board import OPTIONAL_COLUMNS, active_providers


def board_row(row: RowMapping) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "hostname": row["hostname"],
        "health_status": row["health_status"],
        "health_checked_at": render(row["health_checked_at"]),
    }
    for name in OPTIONAL_COLUMNS:
        if name in row:
            item[name] = row[name]
    return item


class BoardService:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def providers(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await active_providers(conn)
        return [board_row(row) for row in rows]
