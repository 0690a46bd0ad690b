"""RPC handler for GET /v1/providers/{id}/health_checks."""

from __future__ import annotations

from typing import Any

from shared.pagination import parse_page_size, parse_page_token
from shared.requests import path_uuid
from shared.rpc import RpcContext

from health_checker.services.history import HistoryService


class HealthCheckHandlers:
    def __init__(self, service: HistoryService) -> None:
        self._service = service

    async def list(self, ctx: RpcContext) -> dict[str, Any]:
        size = parse_page_size(ctx.query.get("page_size"))
        cursor = parse_page_token(ctx.query.get("page_token"))
        return await self._service.page(path_uuid(ctx), size, cursor)
