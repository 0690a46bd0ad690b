"""RPC handlers for one-step carrier setup and its journal (/v1/providers/setup[s])."""

from __future__ import annotations

from typing import Any

from shared.contracts.setup import ProviderSetupRequest
from shared.contracts.validation import parse_body
from shared.requests import new_id, page_params, path_uuid
from shared.rpc import Reply, RpcContext

from provider_manager.carrier_setup.service import SetupService


class SetupHandlers:
    def __init__(self, service: SetupService) -> None:
        self._service = service

    async def setup(self, ctx: RpcContext) -> Reply:
        body = parse_body(ProviderSetupRequest, ctx.data)
        # The provider id comes from the message id: a redelivered request finds its result.
        return Reply(await self._service.setup(new_id(ctx), body))

    async def list(self, ctx: RpcContext) -> dict[str, Any]:
        size, cursor = page_params(ctx)
        items, token = await self._service.list(ctx.query.get("state"), size, cursor)
        return {"result": items, "next_page_token": token}

    async def get(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.get(path_uuid(ctx))
