"""ProviderCall rows. get() raises NotFound; find() returns None."""

from __future__ import annotations

from typing import Any

from shared.db import soft_delete
from shared.errors import AppError, not_found
from shared.pagination import PageCursor
from sqlalchemy import ColumnElement, RowMapping, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.repositories.paging import fetch_page
from call_manager.tables import providercalls


def providercall_not_found(providercall_id: str) -> AppError:
    return not_found("PROVIDERCALL_NOT_FOUND", f"providercall {providercall_id} not found")


class ProviderCallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def insert(self, values: dict[str, Any]) -> RowMapping | None:
        """The new row, or None when a row with this id exists (a replayed create)."""
        now = func.statement_timestamp()
        return (
            (
                await self._session.execute(
                    insert(providercalls)
                    .values(tm_create=now, tm_update=now, **values)
                    .on_conflict_do_nothing(index_elements=[providercalls.c.id])
                    .returning(*providercalls.c)
                )
            )
            .mappings()
            .first()
        )

    async def find(self, providercall_id: str) -> RowMapping | None:
        result = await self._session.execute(
            select(providercalls).where(providercalls.c.id == providercall_id)
        )
        return result.mappings().first()

    async def get(self, providercall_id: str, customer_id: str | None = None) -> RowMapping:
        row = await self.find(providercall_id)
        if row is None or (customer_id is not None and row["customer_id"] != customer_id):
            raise providercall_not_found(providercall_id)
        return row

    async def soft_delete(self, providercall_id: str, customer_id: str | None) -> RowMapping:
        conditions: list[ColumnElement[bool]] = [providercalls.c.id == providercall_id]
        if customer_id is not None:
            conditions.append(providercalls.c.customer_id == customer_id)
        row = await soft_delete(self._session, providercalls, *conditions)
        if row is None:
            raise providercall_not_found(providercall_id)
        return row

    async def page(
        self,
        page_size: int,
        cursor: PageCursor | None,
        customer_id: str | None,
        provider_id: str | None,
    ) -> list[RowMapping]:
        conditions: list[ColumnElement[bool]] = [providercalls.c.tm_delete.is_(None)]
        if customer_id is not None:
            conditions.append(providercalls.c.customer_id == customer_id)
        if provider_id is not None:
            conditions.append(providercalls.c.provider_id == provider_id)
        return await fetch_page(self._session, providercalls, conditions, page_size, cursor)
