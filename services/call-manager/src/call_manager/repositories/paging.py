"""Keyset pages over any of our tables: newest first, one extra row to know if more exist."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.pagination import PageCursor, make_page_token
from sqlalchemy import ColumnElement, RowMapping, Table, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession


async def fetch_page(
    session: AsyncSession,
    table: Table,
    conditions: list[ColumnElement[bool]],
    page_size: int,
    cursor: PageCursor | None,
) -> list[RowMapping]:
    query = select(table).where(*conditions)
    if cursor is not None:
        if cursor.id is not None:
            query = query.where(
                tuple_(table.c.tm_create, table.c.id) < (cursor.tm_create, cursor.id)
            )
        else:
            query = query.where(table.c.tm_create < cursor.tm_create)
    query = query.order_by(table.c.tm_create.desc(), table.c.id.desc()).limit(page_size + 1)
    return list((await session.execute(query)).mappings().all())


def page_reply(
    rows: list[RowMapping], page_size: int, render: Callable[[Mapping[Any, Any]], dict[str, Any]]
) -> dict[str, Any]:
    page = rows[:page_size]
    token = make_page_token(page[-1]["tm_create"], page[-1]["id"]) if len(rows) > page_size else ""
    return {"result": [render(row) for row in page], "next_page_token": token}
