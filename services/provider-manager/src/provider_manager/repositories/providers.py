"""Provider rows. get() raises NotFound; find() returns None."""

from __future__ import annotations

from typing import Any, cast

from shared.db import dumps_json, soft_delete
from shared.errors import not_found
from shared.pagination import PageCursor, keyset_page
from sqlalchemy import RowMapping, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from provider_manager.tables import outbox, providers

# Built once: constructing the expression per call was a visible share of a GET's CPU.
_BY_ID = select(providers).where(providers.c.id == bindparam("provider_id"))
# The same row for asyncpg directly (see find()); every column of the table, so it cannot
# drift from _BY_ID. The id is text, as UUID(as_uuid=False) gives it through SQLAlchemy.
_SELECTED = ", ".join("id::text AS id" if c.name == "id" else f'"{c.name}"' for c in providers.c)
_BY_ID_SQL = f"SELECT {_SELECTED} FROM {providers.fullname} WHERE id = $1::uuid"
# Several at once (shared.read_batching gathers GETs that arrive together): one lookup by id
# per UNION ALL branch, for a power-of-two count of ids (padded by repeating one) so a few
# statements serve every batch. Not `id IN (...)` nor `= ANY($1)`: their generic plan is a
# sequential scan when first planned on a small table, and PostgreSQL keeps a cached plan
# as the table grows (0.45 ms of its CPU per GET at 20,000 rows, against 0.03). An
# equality on the primary key is an index scan in any plan.
_MAX_BATCH = 64


def _by_ids_sql(size: int) -> str:
    return " UNION ALL ".join(
        _BY_ID_SQL.replace("$1::uuid", f"${n}::uuid") for n in range(1, size + 1)
    )


_BY_IDS_SQL = {1 << n: _by_ids_sql(1 << n) for n in range(_MAX_BATCH.bit_length())}
# Everything a create writes itself; the two timestamps come from the database's clock.
CREATE_COLUMNS = tuple(c.name for c in providers.c if c.name not in ("tm_create", "tm_update"))
_RENDERED = "to_jsonb(to_char(p.{} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))"
_N = len(CREATE_COLUMNS)
# A create and its event in one statement, so in one round trip and atomic by itself: a
# transaction around two INSERTs was four round trips (BEGIN, INSERT, INSERT, COMMIT), each
# costing provider-manager more CPU than the statement's own work. The event's data is
# the wire form built from the same values, with the timestamps rendered by PostgreSQL as
# shared.timefmt.render writes them; a replay of the id inserts neither row.
_CREATE_ANNOUNCED_SQL = f"""
WITH p AS (
    INSERT INTO {providers.fullname} ({", ".join(f'"{c}"' for c in CREATE_COLUMNS)},
                                      tm_create, tm_update)
    VALUES ({", ".join(f"${n}" for n in range(1, _N + 1))},
            statement_timestamp(), statement_timestamp())
    ON CONFLICT (id) DO NOTHING
    RETURNING {_SELECTED}
), announced AS (
    INSERT INTO {outbox.fullname} (id, type, payload)
    SELECT ${_N + 1}::uuid, ${_N + 2},
           jsonb_set(
               jsonb_set(${_N + 3}::jsonb, '{{data,tm_create}}', {_RENDERED.format("tm_create")}),
               '{{data,tm_update}}', {_RENDERED.format("tm_update")})
    FROM p
)
SELECT * FROM p
"""
# The column values come as execute() parameters, so one compiled statement serves all.
_INSERT = (
    insert(providers)
    .values(tm_create=func.statement_timestamp(), tm_update=func.statement_timestamp())
    .on_conflict_do_nothing(index_elements=[providers.c.id])
    .returning(*providers.c)
)


def provider_not_found(provider_id: str) -> Exception:
    return not_found("PROVIDER_NOT_FOUND", f"provider {provider_id} not found")


class ProviderRepository:
    def __init__(self, session: AsyncSession | AsyncConnection) -> None:
        # A plain connection is enough (and cheaper) for reads; writes use a session.
        self._session = session

    async def insert(self, provider_id: str, values: dict[str, Any]) -> tuple[RowMapping, bool]:
        """Insert once; a replay with the same id returns the stored row and created=False."""
        result = await self._session.execute(_INSERT, {**values, "id": provider_id})
        row = result.mappings().first()
        if row is not None:
            return row, True
        return await self.get(provider_id), False

    async def _driver(self) -> Any:
        """The asyncpg connection under the plain SQLAlchemy connection this repository
        was given (the raw statements here skip SQLAlchemy's execute and result layers)."""
        assert isinstance(self._session, AsyncConnection)
        driver = (await self._session.get_raw_connection()).driver_connection
        assert driver is not None
        return driver

    async def insert_announced(
        self, values: dict[str, Any], event_id: str, event_type: str, payload: dict[str, Any]
    ) -> RowMapping | None:
        """Insert the provider (`values`: every column of CREATE_COLUMNS) and its event's
        outbox row in one statement, on a plain connection; None when the id exists."""
        if set(values) != set(CREATE_COLUMNS):
            raise ValueError(f"create needs exactly {sorted(CREATE_COLUMNS)}, got {sorted(values)}")
        driver = await self._driver()
        args = [
            dumps_json(values[c]) if isinstance(providers.c[c].type, JSONB) else values[c]
            for c in CREATE_COLUMNS
        ]
        record = await driver.fetchrow(
            _CREATE_ANNOUNCED_SQL, *args, event_id, event_type, dumps_json(payload)
        )
        return cast(RowMapping | None, record)

    async def find(self, provider_id: str) -> RowMapping | None:
        if isinstance(self._session, AsyncConnection):
            # A read by id on a plain connection: straight to asyncpg on the pooled one.
            # SQLAlchemy's execute/result layers were over a fifth of its CPU; the row is
            # the same (asyncpg record, JSONB decoded by the codec SQLAlchemy installed).
            record = await (await self._driver()).fetchrow(_BY_ID_SQL, provider_id)
            return cast(RowMapping | None, record)
        result = await self._session.execute(_BY_ID, {"provider_id": provider_id})
        return result.mappings().first()

    async def find_many(self, provider_ids: list[str]) -> dict[str, RowMapping]:
        """The rows with these ids (deleted ones too), by id; on a plain connection."""
        driver = await self._driver()
        found: dict[str, RowMapping] = {}
        for start in range(0, len(provider_ids), _MAX_BATCH):
            chunk = provider_ids[start : start + _MAX_BATCH]
            size = 1 << (len(chunk) - 1).bit_length()
            padded = chunk + [chunk[-1]] * (size - len(chunk))
            for record in await driver.fetch(_BY_IDS_SQL[size], *padded):
                found[record["id"]] = cast(RowMapping, record)
        return found

    async def get(self, provider_id: str) -> RowMapping:
        row = await self.find(provider_id)
        if row is None:
            raise provider_not_found(provider_id)
        return row

    async def lock_active(self, provider_id: str) -> RowMapping:
        """The undeleted provider, locked for the rest of the transaction."""
        row = (
            (
                await self._session.execute(
                    select(providers)
                    .where(providers.c.id == provider_id, providers.c.tm_delete.is_(None))
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise provider_not_found(provider_id)
        return row

    async def update(self, provider_id: str, values: dict[str, Any]) -> RowMapping:
        row = (
            (
                await self._session.execute(
                    update(providers)
                    .where(providers.c.id == provider_id)
                    .values(tm_update=func.clock_timestamp(), **values)
                    .returning(*providers.c)
                )
            )
            .mappings()
            .one()
        )
        return row

    async def soft_delete(self, provider_id: str) -> RowMapping:
        row = await soft_delete(self._session, providers, providers.c.id == provider_id)
        if row is None:
            raise provider_not_found(provider_id)
        return row

    async def list_active(self, page_size: int, cursor: PageCursor | None) -> list[RowMapping]:
        """One page, newest first."""
        query = keyset_page(
            select(providers).where(providers.c.tm_delete.is_(None)), providers, page_size, cursor
        )
        return list((await self._session.execute(query)).mappings().all())
