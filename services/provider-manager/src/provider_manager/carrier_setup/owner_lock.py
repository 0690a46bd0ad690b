"""Which setups a live process is running: one PostgreSQL session advisory lock per setup.

The process running a setup holds its lock on a dedicated connection for the whole saga.
If the process dies, PostgreSQL drops the connection and with it the lock, so "unfinished
row + free lock" means "interrupted", with no clock or lease to guess. Another setup that
takes the free lock owns the orphan's cleanup; a live setup's lock is never free, so its
resources are never swept. Works across replicas, since they share the database.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

log = structlog.get_logger("provider_manager.setup.lock")

_MASK64 = (1 << 64) - 1


def lock_key(setup_id: str) -> int:
    """The bigint advisory-lock key of a setup (first 8 bytes of its UUID)."""
    return int.from_bytes(uuid.UUID(setup_id).bytes[:8], "big", signed=True)


class OwnerLocks:
    """Advisory locks held on one dedicated connection (autocommit: no open transaction)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def try_acquire(self, setup_id: str) -> bool:
        result = await self._conn.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(setup_id)}
        )
        return bool(result.scalar())

    async def release(self, setup_id: str) -> None:
        await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(setup_id)})


@contextlib.asynccontextmanager
async def owner_locks(engine: AsyncEngine) -> AsyncIterator[OwnerLocks]:
    conn = await engine.connect()
    try:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield OwnerLocks(conn)
    finally:
        try:
            # The connection goes back to the pool: it must not keep any lock.
            await conn.execute(text("SELECT pg_advisory_unlock_all()"))
        except Exception:
            log.warning("setup_lock_release_failed")
            await conn.invalidate()
        await conn.close()


async def held(session: AsyncSession, setup_ids: Iterable[str]) -> set[str]:
    """Those of `setup_ids` whose lock some session holds now (read-only: takes no lock)."""
    wanted = {lock_key(i) & _MASK64: i for i in setup_ids}
    if not wanted:
        return set()
    rows = await session.execute(
        text(
            "SELECT classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 1 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    )
    found = {(int(hi) << 32) | int(lo) for hi, lo in rows.all()}
    return {setup_id for key, setup_id in wanted.items() if key in found}
