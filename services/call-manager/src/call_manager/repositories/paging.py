"""Keyset pages over any of our tables (the mechanism is shared.pagination's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.pagination import PageCursor, keyset_page, split_page
from sqlalchemy import ColumnElement, RowMapping, Table, select
from sqlalchemy.ext.asyncio import AsyncSession


async def fetch_page(
    session: AsyncSession,
    table: Table,
    conditions: list[ColumnElement[bool]],
    page_size: int,
    cursor: PageCursor | None,
) -> list[RowMapping]:
    query = keyset_page(select(table).where(*conditions), table, page_size, cursor)
    return list((await session.execute(query)).mappings().all())


def page_reply(
    rows: list[RowMapping], page_size: int, render: Callable[[Mapping[Any, Any]], dict[str, Any]]
) -> dict[str, Any]:
    page, token = split_page(rows, page_size)
    return {"result": [render(row) for row in page], "next_page_token": token}
