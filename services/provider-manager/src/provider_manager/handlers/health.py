"""RPC handler for POST /v1/providers/health (the health-checker's write-back)."""

from __future__ import annotations

from typing import Any

from shared.contracts.health import ProviderHealthBatch
from shared.contracts.validation import parse_body
from shared.rpc import RpcContext

from provider_manager.services.health import HealthService


class HealthHandlers:
    def __init__(self, service: HealthService) -> None:
        self._service = service

    async def apply(self, ctx: RpcContext) -> dict[str, Any]:
        batch = parse_body(ProviderHealthBatch, ctx.data)
        return (await self._service.apply(batch)).model_dump()
