"""Route rows. get() raises NotFound; find() returns None."""

from __future__ import annotations

from typing import Any

from shared.db import soft_delete
from shared.errors import AppError, ErrorStatus, not_found
from shared.pagination import PageCursor, keyset_page
from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from provider_manager.tables import providers, routes


def route_not_found(route_id: str) -> Exception:
    return not_found("ROUTE_NOT_FOUND", f"route {route_id} not found")


class RouteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def share_lock_provider(self, provider_id: str) -> None:
        """Require an undeleted provider and hold it FOR SHARE until commit.

        A concurrent provider delete (an UPDATE) waits for this transaction, so a route never
        commits pointing at a provider that was already deleted when it was checked. A delete
        that committed first is seen here: the lock re-reads the newest row version.
        """
        found = (
            await self._session.execute(
                select(providers.c.id)
                .where(providers.c.id == provider_id, providers.c.tm_delete.is_(None))
                .with_for_update(read=True)
            )
        ).first()
        if found is None:
            # 404, not 400: the request is well formed; what it names does not exist.
            raise AppError(
                ErrorStatus.NOT_FOUND,
                "PROVIDER_NOT_FOUND",
                f"provider_id: provider {provider_id} does not exist or is deleted",
                {"field": "provider_id"},
            )

    async def insert(self, route_id: str, values: dict[str, Any]) -> tuple[RowMapping, bool]:
        """Insert once; a replay with the same id returns the stored row and created=False."""
        now = func.statement_timestamp()
        row = (
            (
                await self._session.execute(
                    insert(routes)
                    .values(id=route_id, tm_create=now, tm_update=now, **values)
                    .on_conflict_do_nothing(index_elements=[routes.c.id])
                    .returning(*routes.c)
                )
            )
            .mappings()
            .first()
        )
        if row is not None:
            return row, True
        return await self.get(route_id), False

    async def find(self, route_id: str) -> RowMapping | None:
        result = await self._session.execute(select(routes).where(routes.c.id == route_id))
        return result.mappings().first()

    async def get(self, route_id: str) -> RowMapping:
        row = await self.find(route_id)
        if row is None:
            raise route_not_found(route_id)
        return row

    async def lock_active(self, route_id: str) -> RowMapping:
        """The undeleted route, locked for the rest of the transaction."""
        row = (
            (
                await self._session.execute(
                    select(routes)
                    .where(routes.c.id == route_id, routes.c.tm_delete.is_(None))
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise route_not_found(route_id)
        return row

    async def update(self, route_id: str, values: dict[str, Any]) -> RowMapping:
        row = (
            (
                await self._session.execute(
                    update(routes)
                    .where(routes.c.id == route_id)
                    .values(tm_update=func.clock_timestamp(), **values)
                    .returning(*routes.c)
                )
            )
            .mappings()
            .one()
        )
        return row

    async def soft_delete(self, route_id: str) -> RowMapping:
        row = await soft_delete(self._session, routes, routes.c.id == route_id)
        if row is None:
            raise route_not_found(route_id)
        return row

    async def list_active(
        self, page_size: int, cursor: PageCursor | None, customer_id: str | None
    ) -> list[RowMapping]:
        """One page, newest first."""
        query = select(routes).where(routes.c.tm_delete.is_(None))
        if customer_id is not None:
            query = query.where(routes.c.customer_id == customer_id)
        query = keyset_page(query, routes, page_size, cursor)
        return list((await self._session.execute(query)).mappings().all())
