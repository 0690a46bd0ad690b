"""Dial-route resolution: which providers a customer's call to a number tries, in order."""

from __future__ import annotations

from typing import Any

from shared.contracts.routes import DialrouteQuery
from shared.errors import AppError, ErrorStatus
from shared.timefmt import render
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provider_manager.repositories.dialroutes import DialrouteRepository
from provider_manager.services.dialroute_order import (
    RankedRoute,
    RouteCandidate,
    candidate_targets,
    order_dialroutes,
)

Wire = dict[str, Any]


def _candidate(row: RowMapping) -> RouteCandidate:
    return RouteCandidate(
        route_id=row["route_id"],
        customer_id=row["customer_id"],
        target=row["target"],
        priority=row["priority"],
        tm_create=row["tm_create"],
        provider_id=row["provider_id"],
        provider_health=row["health_status"],
    )


def _dialroute_wire(ranked: RankedRoute, row: RowMapping) -> Wire:
    return {
        "route_id": row["route_id"],
        "route_target": row["target"],
        "priority": row["priority"],
        "group": ranked.group,
        "provider_id": row["provider_id"],
        "provider": {
            "id": row["provider_id"],
            "type": row["provider_type"],
            "name": row["provider_name"],
            "hostname": row["hostname"],
            "tech_prefix": row["tech_prefix"],
            "tech_postfix": row["tech_postfix"],
            "tech_headers": row["tech_headers"],
            "health_status": row["health_status"],
            "health_checked_at": render(row["health_checked_at"]),
            "transport": row["transport"],
            "auth_username": row["auth_username"],
            "auth_password_set": row["auth_password_set"],
        },
    }


class DialrouteService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], default_customer_id: str
    ) -> None:
        self._sessions = sessions
        self._default_customer_id = default_customer_id

    async def resolve(self, query: DialrouteQuery) -> Wire:
        async with self._sessions() as session:
            rows = await DialrouteRepository(session).candidates(
                [query.customer_id, self._default_customer_id], candidate_targets(query.target)
            )
        by_route = {row["route_id"]: row for row in rows}
        ranked = order_dialroutes(
            (_candidate(row) for row in rows),
            query.target,
            query.customer_id,
            self._default_customer_id,
        )
        if not ranked:
            raise AppError(
                ErrorStatus.NOT_FOUND,
                "NO_ROUTE",
                f"no route for {query.target} (customer {query.customer_id}): neither the "
                "customer's nor the default routes have a matching prefix or `all` route "
                "to an undeleted provider",
                {"customer_id": query.customer_id, "target": query.target},
            )
        return {
            "customer_id": query.customer_id,
            "target": query.target,
            "result": [_dialroute_wire(r, by_route[r.candidate.route_id]) for r in ranked],
        }
