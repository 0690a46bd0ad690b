"""Verified caller IDs per customer (table call_manager.caller_ids), managed by a
ProjectSuperAdmin, and the check POST /calls makes against them.

A customer with no verified caller ID may not place calls at all (403 SOURCE_NOT_ALLOWED,
saying so): a production platform refuses until a number is verified, as carriers hold the
platform liable for spoofed caller IDs. ProviderCalls (a ProjectSuperAdmin forcing a
provider) are not checked.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from shared.contracts.caller_ids import MAX_PER_CUSTOMER, CallerIdCreate, caller_id_matches
from shared.contracts.calls import SourceAddress
from shared.db import autocommit_engine
from shared.errors import AppError, ErrorStatus, not_found
from shared.timefmt import render
from sqlalchemy import RowMapping, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.tables import caller_ids

SOURCE_REFUSALS = Counter(
    "call_source_refusals_total", "POST /calls refused for an unverified caller ID"
)


def caller_id_wire(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "pattern": row["pattern"],
        "name": row["name"],
        "tm_create": render(row["tm_create"]),
    }


def caller_id_not_found(caller_id: str) -> AppError:
    return not_found("CALLER_ID_NOT_FOUND", f"caller id {caller_id} not found")


def check_source(patterns: list[str], source: SourceAddress) -> None:
    """Raises 403 SOURCE_NOT_ALLOWED unless `source` matches one of a customer's verified
    caller IDs (`patterns`)."""
    if any(caller_id_matches(p, source.type, source.target) for p in patterns):
        return
    SOURCE_REFUSALS.inc()
    if not patterns:
        message = "your account has no verified caller ID yet; ask the operator to add one"
    else:
        message = f"{source.target} is not one of your verified caller IDs"
    raise AppError(
        ErrorStatus.PERMISSION_DENIED,
        "SOURCE_NOT_ALLOWED",
        f"{message}; nothing was dialed",
        {"field": "source.target"},
    )


class CallerIds:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._engine = autocommit_engine(sessions)

    async def patterns(self, customer_id: str) -> list[str]:
        query = select(caller_ids.c.pattern).where(caller_ids.c.customer_id == customer_id)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars().all())

    async def check(self, customer_id: str, source: SourceAddress) -> None:
        """Raises 403 SOURCE_NOT_ALLOWED unless `source` matches a verified caller ID."""
        check_source(await self.patterns(customer_id), source)

    async def list(self, customer_id: str | None) -> list[dict[str, Any]]:
        query = select(caller_ids).order_by(caller_ids.c.tm_create, caller_ids.c.id)
        if customer_id is not None:
            query = query.where(caller_ids.c.customer_id == customer_id)
        else:
            query = query.limit(MAX_PER_CUSTOMER)
        async with self._engine.connect() as conn:
            return [caller_id_wire(row) for row in (await conn.execute(query)).mappings()]

    async def get(self, caller_id: str) -> dict[str, Any]:
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(caller_ids).where(caller_ids.c.id == caller_id)))
                .mappings()
                .first()
            )
        if row is None:
            raise caller_id_not_found(caller_id)
        return caller_id_wire(row)

    async def create(self, caller_id: str, body: CallerIdCreate) -> dict[str, Any]:
        async with self._sessions() as session, session.begin():
            count = (
                await session.execute(
                    select(func.count()).where(caller_ids.c.customer_id == body.customer_id)
                )
            ).scalar_one()
            if count >= MAX_PER_CUSTOMER:
                raise AppError(
                    ErrorStatus.FAILED_PRECONDITION,
                    "TOO_MANY_CALLER_IDS",
                    f"a customer has at most {MAX_PER_CUSTOMER} caller IDs",
                )
            row = (
                (
                    await session.execute(
                        insert(caller_ids)
                        .values(
                            id=caller_id,
                            customer_id=body.customer_id,
                            pattern=body.pattern,
                            name=body.name,
                            tm_create=func.statement_timestamp(),
                        )
                        .on_conflict_do_nothing()
                        .returning(*caller_ids.c)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                existing = (
                    await session.execute(
                        select(caller_ids.c.id).where(caller_ids.c.id == caller_id)
                    )
                ).first()
                if existing is not None:  # a redelivered create: its first result
                    return await self.get(caller_id)
                raise AppError(
                    ErrorStatus.ALREADY_EXISTS,
                    "CALLER_ID_EXISTS",
                    f"{body.pattern} is already verified for this customer",
                )
        return caller_id_wire(row)

    async def delete(self, caller_id: str) -> dict[str, Any]:
        async with self._sessions() as session, session.begin():
            row = (
                (
                    await session.execute(
                        caller_ids.delete()
                        .where(caller_ids.c.id == caller_id)
                        .returning(*caller_ids.c)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise caller_id_not_found(caller_id)
        return caller_id_wire(row)
