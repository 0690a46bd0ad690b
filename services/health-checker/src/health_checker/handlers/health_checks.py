"""RPC handler for GET /v1/providers/{id}/health_checks."""

from __future__ import annotations

from typing import Any

from shared.rpc import RpcContext

from health_checker.handlers.common import path_uuid
from health_checker.services.history import HistoryService


class HealthCheckHandlers:
    def __init__(self, service: HistoryService) -> None:
        self._service = service

    async def list(self, ctx: RpcContext) -> dict[str, Any]:
        return {"result": await self._service.recent(path_uuid(ctx))}
