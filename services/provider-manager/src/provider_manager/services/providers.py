"""Provider lifecycle: create, read, list, update (hostname change resets health), delete."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.contracts.providers import ProviderCreate, ProviderUpdate
from shared.db import autocommit_engine
from shared.events import OutboxRelay, add_event
from shared.pagination import PageCursor, split_page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provider_manager.models import provider_wire
from provider_manager.repositories.providers import ProviderRepository
from provider_manager.settings import SERVICE
from provider_manager.tables import outbox

Wire = dict[str, Any]
InTransaction = Callable[[AsyncSession, bool], Awaitable[None]]


class ProviderService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay | None
    ) -> None:
        self._sessions = sessions
        # Reads are one SELECT each: a plain autocommit connection, no transaction.
        self._reads = autocommit_engine(sessions)
        self._relay = relay

    def _published(self) -> None:
        if self._relay is not None:
            self._relay.wake()

    async def create(
        self,
        provider_id: str,
        body: ProviderCreate,
        metadata: dict[str, Any] | None = None,
        *,
        in_transaction: InTransaction | None = None,
    ) -> Wire:
        """`in_transaction(session, created)` runs inside the same transaction (carrier setup
        commits its journal's "done" with the row), and may raise to roll everything back."""
        async with self._sessions() as session, session.begin():
            row, created = await ProviderRepository(session).insert(
                provider_id, {**body.model_dump(), "metadata": metadata or {}}
            )
            wire = provider_wire(row)
            if created:
                await add_event(session, outbox, SERVICE, "provider_created", wire)
            if in_transaction is not None:
                await in_transaction(session, created)
        self._published()
        return wire

    async def get(self, provider_id: str) -> Wire:
        async with self._reads.connect() as conn:
            return provider_wire(await ProviderRepository(conn).get(provider_id))

    async def list(self, page_size: int, cursor: PageCursor | None) -> tuple[list[Wire], str]:
        async with self._reads.connect() as conn:
            rows = await ProviderRepository(conn).list_active(page_size, cursor)
        page, token = split_page(rows, page_size)
        return [provider_wire(row) for row in page], token

    async def update(self, provider_id: str, body: ProviderUpdate) -> Wire:
        async with self._sessions() as session, session.begin():
            repo = ProviderRepository(session)
            current = await repo.lock_active(provider_id)
            values = body.changes()
            if "hostname" in values and values["hostname"] != current["hostname"]:
                # A result about the old host says nothing about the new one.
                values["health_status"] = "unknown"
                values["health_checked_at"] = None
            wire = provider_wire(await repo.update(provider_id, values))
            await add_event(session, outbox, SERVICE, "provider_updated", wire)
        self._published()
        return wire

    async def delete(self, provider_id: str) -> Wire:
        async with self._sessions() as session, session.begin():
            wire = provider_wire(await ProviderRepository(session).soft_delete(provider_id))
            await add_event(session, outbox, SERVICE, "provider_deleted", wire)
        self._published()
        return wire
