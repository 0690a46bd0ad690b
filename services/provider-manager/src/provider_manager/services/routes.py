"""Route lifecycle: create, read, list, update, delete, each change with its event.

Deleting a provider leaves its routes in place (no cascade): resolution joins undeleted
providers only, so those routes simply stop being candidates, and they stay visible so an
operator can see what pointed at the provider and repoint or delete them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.contracts.routes import RouteCreate, RouteUpdate
from shared.events import add_event, publishing
from shared.pagination import PageCursor, split_page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provider_manager.models import route_wire
from provider_manager.repositories.routes import RouteRepository
from provider_manager.settings import SERVICE
from provider_manager.tables import outbox

Wire = dict[str, Any]


class RouteService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake: Callable[[], None] | None,
        default_customer_id: str,
    ) -> None:
        self._sessions = sessions
        self._wake = wake
        self._default_customer_id = default_customer_id

    async def create(self, route_id: str, body: RouteCreate) -> Wire:
        async with publishing(self._sessions, self._wake) as session:
            repo = RouteRepository(session)
            # A redelivered create answers with its first result, even if the provider
            # was deleted meanwhile.
            stored = await repo.find(route_id)
            if stored is not None:
                return route_wire(stored)
            await repo.share_lock_provider(body.provider_id)
            values = body.model_dump()
            values["customer_id"] = body.customer_id or self._default_customer_id
            row, created = await repo.insert(route_id, values)
            wire = route_wire(row)
            if created:
                await add_event(session, outbox, SERVICE, "route_created", wire)
        return wire

    async def get(self, route_id: str) -> Wire:
        async with self._sessions() as session:
            return route_wire(await RouteRepository(session).get(route_id))

    async def list(
        self, page_size: int, cursor: PageCursor | None, customer_id: str | None
    ) -> tuple[list[Wire], str]:
        async with self._sessions() as session:
            rows = await RouteRepository(session).list_active(page_size, cursor, customer_id)
        page, token = split_page(rows, page_size)
        return [route_wire(row) for row in page], token

    async def update(self, route_id: str, body: RouteUpdate) -> Wire:
        async with publishing(self._sessions, self._wake) as session:
            repo = RouteRepository(session)
            current = await repo.lock_active(route_id)
            values = body.changes()
            # Checked only when it changes: a client that PUTs back what it read must not be
            # refused because the route's provider was deleted since.
            if "provider_id" in values and values["provider_id"] != current["provider_id"]:
                await repo.share_lock_provider(values["provider_id"])
            wire = route_wire(await repo.update(route_id, values))
            await add_event(session, outbox, SERVICE, "route_updated", wire)
        return wire

    async def delete(self, route_id: str) -> Wire:
        async with publishing(self._sessions, self._wake) as session:
            wire = route_wire(await RouteRepository(session).soft_delete(route_id))
            await add_event(session, outbox, SERVICE, "route_deleted", wire)
        return wire
