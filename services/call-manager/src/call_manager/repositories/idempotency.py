"""Idempotency keys: (customer, key) -> what a first POST created, by id: a ProviderCall's
id, or for POST /calls the request id its calls' ids derive from (column providercall_id).

A key is claimed (committed) before any work, so a concurrent duplicate finds the claim and
waits for its result instead of dialing a second time.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import RowMapping, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.tables import idempotency_keys as keys

PENDING = "pending"
DONE = "done"


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(
        self, customer_id: str, key: str, request_hash: str, providercall_id: str
    ) -> RowMapping | None:
        """The new claim, or None when the key is taken (read it with find())."""
        result = await self._session.execute(
            insert(keys)
            .values(
                customer_id=customer_id,
                key=key,
                request_hash=request_hash,
                providercall_id=providercall_id,
                state=PENDING,
                tm_create=func.statement_timestamp(),
            )
            .on_conflict_do_nothing(index_elements=[keys.c.customer_id, keys.c.key])
            .returning(*keys.c)
        )
        return result.mappings().first()

    async def find(self, customer_id: str, key: str) -> RowMapping | None:
        result = await self._session.execute(
            select(keys).where(keys.c.customer_id == customer_id, keys.c.key == key)
        )
        return result.mappings().first()

    async def take_over_stale(
        self, customer_id: str, key: str, older_than: timedelta, providercall_id: str
    ) -> bool:
        """Re-claim a pending key whose first holder died mid-request."""
        result = await self._session.execute(
            update(keys)
            .where(
                keys.c.customer_id == customer_id,
                keys.c.key == key,
                keys.c.state == PENDING,
                keys.c.tm_create < func.statement_timestamp() - older_than,
            )
            .values(tm_create=func.statement_timestamp(), providercall_id=providercall_id)
            .returning(keys.c.key)
        )
        return result.first() is not None

    async def complete(self, customer_id: str, key: str) -> None:
        await self._session.execute(
            update(keys)
            .where(keys.c.customer_id == customer_id, keys.c.key == key)
            .values(state=DONE)
        )

    async def release(self, customer_id: str, key: str) -> None:
        await self._session.execute(
            delete(keys).where(
                keys.c.customer_id == customer_id, keys.c.key == key, keys.c.state == PENDING
            )
        )

    async def purge(self, older_than: timedelta) -> int:
        result = await self._session.execute(
            delete(keys).where(keys.c.tm_create < func.statement_timestamp() - older_than)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
