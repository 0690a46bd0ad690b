"""RPC handler for GET /v1/providers/{id}/health_checks."""

from __future__ import annotations

from typing import Any

from shared.requests import page_params, path_uuid
from shared.rpc import RpcContext

from health_checker.services.history import HistoryService


class HealthCheckHandlers:
    def __init__(self, service: HistoryService) -> None:
        self._service = service

    async def list(self, ctx: RpcContext) -> dict[str, Any]:
        size, cursor = page_params(ctx)
        return await self._service.page(path_uuid(ctx), size, cursor)
