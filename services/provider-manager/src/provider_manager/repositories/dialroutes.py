"""The one query behind dial-route resolution: every route that could apply, with its provider."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import RowMapping, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from provider_manager.tables import providers, routes


class DialrouteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def candidates(
        self, customer_ids: Sequence[str], targets: Sequence[str]
    ) -> list[RowMapping]:
        """Undeleted routes of `customer_ids` whose target is one of `targets`, joined with
        their provider when it is undeleted (a deleted provider's routes drop out here).

        Which of these win, and in what order, is decided by services.dialroute_order.
        """
        query = (
            select(
                routes.c.id.label("route_id"),
                routes.c.customer_id,
                routes.c.target,
                routes.c.priority,
                routes.c.tm_create,
                routes.c.provider_id,
                providers.c.type.label("provider_type"),
                providers.c.name.label("provider_name"),
                providers.c.hostname,
                providers.c.tech_prefix,
                providers.c.tech_postfix,
                providers.c.tech_headers,
                providers.c.health_status,
                providers.c.health_checked_at,
                providers.c.transport,
                providers.c.auth_username,
                providers.c.auth_password_enc.is_not(None).label("auth_password_set"),
            )
            .select_from(
                routes.join(
                    providers,
                    and_(providers.c.id == routes.c.provider_id, providers.c.tm_delete.is_(None)),
                )
            )
            .where(
                routes.c.tm_delete.is_(None),
                routes.c.customer_id.in_(list(dict.fromkeys(customer_ids))),
                routes.c.target.in_(list(targets)),
            )
        )
        return list((await self._session.execute(query)).mappings().all())
