"""RPC handler for GET /v1/probe_targets (every active target's latest probe state)."""

from __future__ import annotations

from typing import Any

from shared.rpc import RpcContext

from health_checker.services.board import BoardService


class BoardHandlers:
    def __init__(self, service: BoardService) -> None:
        self._service = service

    async def list(self, _: RpcContext) -> dict[str, Any]:
        return {"result": await self._service.targets()}
