"""RPC handler for GET /v1/providers/{id}/call_metrics?window_seconds=N."""

from __future__ import annotations

from typing import Any

from shared.contracts.call_metrics import metrics_window
from shared.requests import path_uuid
from shared.rpc import RpcContext

from call_manager.services.provider_metrics import ProviderMetricsService


class ProviderMetricsHandlers:
    def __init__(self, service: ProviderMetricsService) -> None:
        self._service = service

    async def get(self, ctx: RpcContext) -> dict[str, Any]:
        window = metrics_window(ctx.query.get("window_seconds"))
        return await self._service.metrics(path_uuid(ctx), window)
