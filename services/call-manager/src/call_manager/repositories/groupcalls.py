"""Groupcall rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.errors import AppError, not_found
from shared.pagination import PageCursor
from sqlalchemy import ColumnElement, RowMapping, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.repositories.paging import fetch_page
from call_manager.tables import groupcalls


def groupcall_not_found(groupcall_id: str) -> AppError:
    return not_found("GROUPCALL_NOT_FOUND", f"groupcall {groupcall_id} not found")


class GroupcallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert complete rows (timestamps included); ids already stored are skipped.

        One cached statement run as executemany: a 100-row VALUES list would be compiled
        anew for every create, and nothing is read back (the caller has the rows).
        """
        if rows:
            await self._session.execute(
                insert(groupcalls).on_conflict_do_nothing(index_elements=[groupcalls.c.id]),
                list(rows),
            )

    async def find(self, groupcall_id: str, lock: bool = False) -> RowMapping | None:
        query = select(groupcalls).where(groupcalls.c.id == groupcall_id)
        if lock:
            query = query.with_for_update()
        return (await self._session.execute(query)).mappings().first()

    async def find_many(self, groupcall_ids: Sequence[str]) -> list[RowMapping]:
        """The stored rows among `groupcall_ids`, in the order given."""
        if not groupcall_ids:
            return []
        result = await self._session.execute(
            select(groupcalls).where(groupcalls.c.id.in_(groupcall_ids))
        )
        by_id = {row["id"]: row for row in result.mappings().all()}
        return [by_id[i] for i in groupcall_ids if i in by_id]

    async def get(self, groupcall_id: str, customer_id: str | None = None) -> RowMapping:
        row = await self.find(groupcall_id)
        if row is None or (customer_id is not None and row["customer_id"] != customer_id):
            raise groupcall_not_found(groupcall_id)
        return row

    async def update(self, groupcall_id: str, values: dict[str, Any]) -> RowMapping:
        result = await self._session.execute(
            update(groupcalls)
            .where(groupcalls.c.id == groupcall_id)
            .values(tm_update=func.clock_timestamp(), **values)
            .returning(*groupcalls.c)
        )
        return result.mappings().one()

    async def page(
        self, page_size: int, cursor: PageCursor | None, customer_id: str | None
    ) -> list[RowMapping]:
        conditions: list[ColumnElement[bool]] = [groupcalls.c.tm_delete.is_(None)]
        if customer_id is not None:
            conditions.append(groupcalls.c.customer_id == customer_id)
        return await fetch_page(self._session, groupcalls, conditions, page_size, cursor)
