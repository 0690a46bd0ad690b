"""RPC handlers for /v1/routes."""

from __future__ import annotations

from typing import Any

from shared.contracts.routes import RouteCreate, RouteUpdate
from shared.contracts.validation import parse_body
from shared.errors import invalid_argument
from shared.ids import canonical_uuid
from shared.requests import new_id, page_params, path_uuid
from shared.rpc import Reply, RpcContext

from provider_manager.services.routes import RouteService


def customer_filter(raw: str | None) -> str | None:
    """The list's optional `customer_id` filter; empty means no filter."""
    if not raw:
        return None
    try:
        return canonical_uuid(raw)
    except ValueError:
        raise invalid_argument("customer_id", "must be a UUID") from None


class RouteHandlers:
    def __init__(self, service: RouteService) -> None:
        self._service = service

    async def list(self, ctx: RpcContext) -> dict[str, Any]:
        size, cursor = page_params(ctx)
        customer_id = customer_filter(ctx.query.get("customer_id"))
        items, token = await self._service.list(size, cursor, customer_id)
        return {"result": items, "next_page_token": token}

    async def create(self, ctx: RpcContext) -> Reply:
        body = parse_body(RouteCreate, ctx.data)
        return Reply(await self._service.create(new_id(ctx), body))

    async def get(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.get(path_uuid(ctx))

    async def update(self, ctx: RpcContext) -> dict[str, Any]:
        route_id = path_uuid(ctx)
        return await self._service.update(route_id, parse_body(RouteUpdate, ctx.data))

    async def delete(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.delete(path_uuid(ctx))
