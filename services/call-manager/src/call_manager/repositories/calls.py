"""Call rows. Status changes are guarded UPDATEs, so the one-way rule holds even when two
replicas (an owner and a crash reaper) touch the same call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.errors import AppError, not_found
from shared.pagination import PageCursor
from sqlalchemy import ColumnElement, RowMapping, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.calls import states
from call_manager.repositories.paging import fetch_page
from call_manager.tables import calls


def call_not_found(call_id: str) -> AppError:
    return not_found("CALL_NOT_FOUND", f"call {call_id} not found")


def with_hangup_cause(cause: str) -> Any:
    """`metadata` with `hangup_cause` set, the rest kept (a SET expression)."""
    return calls.c.metadata.op("||")(func.jsonb_build_object("hangup_cause", cause))


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert complete rows (timestamps included); ids already stored are skipped.

        One cached statement run as executemany: a 100-row VALUES list would be compiled
        anew for every create, and nothing is read back (the caller has the rows).
        """
        if rows:
            await self._session.execute(
                insert(calls).on_conflict_do_nothing(index_elements=[calls.c.id]), list(rows)
            )

    async def find(self, call_id: str) -> RowMapping | None:
        result = await self._session.execute(select(calls).where(calls.c.id == call_id))
        return result.mappings().first()

    async def find_many(self, call_ids: Sequence[str]) -> list[RowMapping]:
        """The stored rows among `call_ids`, in the order given."""
        if not call_ids:
            return []
        result = await self._session.execute(select(calls).where(calls.c.id.in_(call_ids)))
        by_id = {row["id"]: row for row in result.mappings().all()}
        return [by_id[call_id] for call_id in call_ids if call_id in by_id]

    async def get(self, call_id: str, customer_id: str | None = None) -> RowMapping:
        row = await self.find(call_id)
        if row is None or (customer_id is not None and row["customer_id"] != customer_id):
            raise call_not_found(call_id)
        return row

    async def move(self, call_id: str, status: str, values: dict[str, Any]) -> RowMapping | None:
        """Set `status` (and `values`) only if the stored status may move there."""
        now = func.clock_timestamp()
        extra: dict[str, Any] = {}
        time_field = states.STATUS_TIME_FIELD.get(status)
        if time_field is not None:
            extra[time_field] = now
        result = await self._session.execute(
            update(calls)
            .where(calls.c.id == call_id, calls.c.status.in_(states.sources_of(status)))
            .values(status=status, tm_update=now, **extra, **values)
            .returning(*calls.c)
        )
        return result.mappings().first()

    async def update_live(self, call_id: str, values: dict[str, Any]) -> RowMapping | None:
        """Set `values` on a call still being set up (dialing or ringing); None otherwise
        (a reaper may have finished it meanwhile: a finished call is never rewritten)."""
        result = await self._session.execute(
            update(calls)
            .where(calls.c.id == call_id, calls.c.status.in_((states.DIALING, states.RINGING)))
            .values(tm_update=func.clock_timestamp(), **values)
            .returning(*calls.c)
        )
        return result.mappings().first()

    async def page(
        self, page_size: int, cursor: PageCursor | None, customer_id: str | None
    ) -> list[RowMapping]:
        conditions: list[ColumnElement[bool]] = [calls.c.tm_delete.is_(None)]
        if customer_id is not None:
            conditions.append(calls.c.customer_id == customer_id)
        return await fetch_page(self._session, calls, conditions, page_size, cursor)

    async def live_ids_of(self, replica_id: str, limit: int = 500) -> list[str]:
        result = await self._session.execute(
            select(calls.c.id)
            .where(calls.c.owner_replica == replica_id, calls.c.status != states.HANGUP)
            .limit(limit)
        )
        return [str(r) for r in result.scalars().all()]
