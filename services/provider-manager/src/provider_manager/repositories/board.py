"""Every active provider at once, for an operator's fleet board."""

from __future__ import annotations

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection

from provider_manager.tables import providers

_ACTIVE = select(providers).where(providers.c.tm_delete.is_(None)).order_by(providers.c.name)


async def active_providers(conn: AsyncConnection) -> list[RowMapping]:
    return list((await conn.execute(_ACTIVE)).mappings().all())
