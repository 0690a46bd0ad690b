"""RPC handlers for /v1/calls and /v1/groupcalls (reads filtered by ?customer_id=)."""

from __future__ import annotations

from typing import Any

from shared.requests import page_params, path_uuid
from shared.rpc import RpcContext

from call_manager.handlers.common import caller_customer
from call_manager.services.calls import CallService


class CallHandlers:
    def __init__(self, service: CallService, forwarded: bool = False) -> None:
        self._service = service
        # True on a replica's own queue: orders there were forwarded once already.
        self._forwarded = forwarded

    async def list_calls(self, ctx: RpcContext) -> dict[str, Any]:
        size, cursor = page_params(ctx)
        return await self._service.list_calls(size, cursor, caller_customer(ctx))

    async def get_call(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.get_call(path_uuid(ctx), caller_customer(ctx))

    async def hangup_call(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.hangup_call(
            path_uuid(ctx), caller_customer(ctx), self._forwarded
        )

    async def list_groupcalls(self, ctx: RpcContext) -> dict[str, Any]:
        size, cursor = page_params(ctx)
        return await self._service.list_groupcalls(size, cursor, caller_customer(ctx))

    async def get_groupcall(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.get_groupcall(path_uuid(ctx), caller_customer(ctx))

    async def hangup_groupcall(self, ctx: RpcContext) -> dict[str, Any]:
        return await self._service.hangup_groupcall(
            path_uuid(ctx), caller_customer(ctx), self._forwarded
        )
