"""RPC handlers for /v1/providercalls.

POST body: the ProviderCallCreate fields plus `customer_id` (required; the gateway sets it
from the caller's identity) and optional `idempotency_key`.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.calls import ProviderCallCreate
from shared.contracts.validation import parse_body
from shared.requests import new_id, optional_uuid, page_params, path_uuid
from shared.rpc import Reply, RpcContext

from call_manager.handlers.common import caller_customer, create_customer, idempotency_key
from call_manager.services.providercalls import ProviderCallService


class ProviderCallHandlers:
    def __init__(self, service: ProviderCallService) -> None:
        self._service = service

    async def create(self, ctx: RpcContext) -> Reply:
        data = ctx.body()
        customer_id = create_customer(data)
        key = idempotency_key(data.get("idempotency_key"))
        body = parse_body(ProviderCallCreate, data)
        return Reply(await self._service.create(new_id(ctx), customer_id, body, key))

    async def list(self, ctx: RpcContext) -> dict[str, Any]:
        size, cursor = page_params(ctx)
        provider_id = optional_uuid(ctx.query.get("provider_id"), "provider_id")
        return await self._service.list(size, cursor, caller_customer(ctx), provider_id)

    async def get(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.get(path_uuid(ctx), caller_customer(ctx))

    async def delete(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.delete(path_uuid(ctx), caller_customer(ctx))
