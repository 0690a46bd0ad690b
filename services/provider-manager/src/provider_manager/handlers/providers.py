"""RPC handlers for /v1/providers."""

from __future__ import annotations

from typing import Any

from shared.contracts.providers import ProviderCreate, ProviderUpdate
from shared.contracts.validation import parse_body
from shared.requests import new_id, page_params, path_uuid
from shared.rpc import Reply, RpcContext

from provider_manager.services.providers import ProviderService


class ProviderHandlers:
    def __init__(self, service: ProviderService) -> None:
        self._service = service

    async def list(self, ctx: RpcContext) -> dict[str, Any]:
        size, cursor = page_params(ctx)
        items, token = await self._service.list(size, cursor)
        return {"result": items, "next_page_token": token}

    async def create(self, ctx: RpcContext) -> Reply:
        body = parse_body(ProviderCreate, ctx.data)
        return Reply(await self._service.create(new_id(ctx), body))

    async def get(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.get(path_uuid(ctx))

    async def update(self, ctx: RpcContext) -> dict[str, Any]:
        provider_id = path_uuid(ctx)
        return await self._service.update(provider_id, parse_body(ProviderUpdate, ctx.data))

    async def credentials(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.credentials(path_uuid(ctx))

    async def delete(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.delete(path_uuid(ctx))
