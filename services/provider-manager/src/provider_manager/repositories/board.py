"""Every active provider at once, for an operator's fleet board."""

from __future__ import annotations

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection

from provider_manager.tables import providers

BOARD_COLUMNS = ("id", "name", "hostname", "health_status", "health_checked_at")
# Shown when the table has them (carrier-edge fields); the board needs no change for them.
OPTIONAL_COLUMNS = ("transport", "register", "registration_status")

# Only the columns a board shows: decoding JSONB columns (tech_headers, metadata) of 10,000
# rows was most of the cost of reading them all.
_ACTIVE = (
    select(
        *(providers.c[name] for name in (*BOARD_COLUMNS, *OPTIONAL_COLUMNS) if name in providers.c)
    )
    .where(providers.c.tm_delete.is_(None))
    .order_by(providers.c.name)
)


async def active_providers(conn: AsyncConnection) -> list[RowMapping]:
    return list((await conn.execute(_ACTIVE)).mappings().all())
