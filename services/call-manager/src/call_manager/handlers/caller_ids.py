"""RPC handlers for /v1/caller_ids (verified caller IDs; the gateway allows
ProjectSuperAdmins only)."""

from __future__ import annotations

from typing import Any

from shared.contracts.caller_ids import CallerIdCreate
from shared.contracts.validation import parse_body
from shared.requests import new_id, optional_uuid, path_uuid
from shared.rpc import Reply, RpcContext

from call_manager.policy.caller_ids import CallerIds


class CallerIdHandlers:
    def __init__(self, service: CallerIds) -> None:
        self._service = service

    async def list(self, ctx: RpcContext) -> dict[str, Any]:
        customer_id = optional_uuid(ctx.query.get("customer_id"), "customer_id")
        return {"result": await self._service.list(customer_id)}

    async def create(self, ctx: RpcContext) -> Reply:
        body = parse_body(CallerIdCreate, ctx.data)
        return Reply(await self._service.create(new_id(ctx), body))

    async def get(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.get(path_uuid(ctx))

    async def delete(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.delete(path_uuid(ctx))
