"""Async SQLAlchemy engine and session helpers (asyncpg underneath)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from sqlalchemy import ColumnElement, RowMapping, Table, func, update
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def async_url(url: str) -> str:
    """Accept the libpq-style URL users know and point SQLAlchemy at asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def dumps_json(value: Any) -> str:
    """JSON and JSONB columns (outbox payloads, metadata) through orjson: the stdlib encoder
    was ~3% of the health-checker's CPU per round, writing the probes_recorded events."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def loads_json(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits, which JSONB can hold.
        return json.loads(text)


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        # A fixed pool, no overflow: under steady load overflow connections were opened and
        # closed for nearly every request (a TCP + auth handshake each) instead of queueing
        # briefly for one of `pool_size`, which is already more than the cores we run on.
        pool_size=pool_size,
        max_overflow=0,
        # No pre-ping: it costs a round trip per checkout (about 13% of provider-manager's
        # CPU per read). After a PostgreSQL restart the first statement on a dead connection
        # fails, SQLAlchemy then invalidates the whole pool, and later requests reconnect.
        pool_pre_ping=False,
        # Timestamps are written and compared in UTC whatever the server's zone.
        connect_args={"server_settings": {"timezone": "UTC"}},
        json_serializer=dumps_json,
        json_deserializer=loads_json,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def autocommit_engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The sessions' engine (same pool) in autocommit mode, for single-statement reads on a
    plain connection: no ORM session and no BEGIN/ROLLBACK round trips around the one
    SELECT (a lone statement is atomic anyway)."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def soft_delete(
    session: AsyncSession | AsyncConnection, table: Table, *conditions: ColumnElement[bool]
) -> RowMapping | None:
    """The seeds' delete: the undeleted row matching `conditions` gets tm_delete (and
    tm_update) set to now and is returned as it is now; None when there is no such row."""
    now = func.statement_timestamp()
    result = await session.execute(
        update(table)
        .where(*conditions, table.c.tm_delete.is_(None))
        .values(tm_update=now, tm_delete=now)
        .returning(*table.c)
    )
    return result.mappings().first()
