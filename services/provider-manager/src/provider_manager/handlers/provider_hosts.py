"""GET /v1/providers/hostnames: every active provider's hostname, for call-manager's dial
policy (a customer's sip destination may not be a carrier's host: that would reach the
carrier from our whitelisted address without any route). Not exposed by the gateway."""

from __future__ import annotations

from typing import Any

from shared.db import autocommit_engine
from shared.rpc import RpcContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provider_manager.tables import providers


class ProviderHostHandlers:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._engine = autocommit_engine(sessions)

    async def hostnames(self, _: RpcContext) -> dict[str, Any]:
        query = (
            select(providers.c.hostname)
            .where(providers.c.tm_delete.is_(None))
            .distinct()
            .order_by(providers.c.hostname)
        )
        async with self._engine.connect() as conn:
            names = (await conn.execute(query)).scalars().all()
        return {"hostnames": list(names)}
