"""health-checker over RPC: a provider's probe history."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from shared.rpc import RpcClient

SERVICE = "health-checker"


class HealthCheckerClient:
    def __init__(self, rpc: RpcClient, queue: str, timeout: float | None = None) -> None:
        self._rpc = rpc
        self.queue = queue
        self._timeout = timeout

    async def health_checks(self, provider_id: str, page: dict[str, str]) -> dict[str, Any]:
        """A page of the provider's probes; `page` holds page_size and page_token."""
        uri = f"/v1/providers/{provider_id}/health_checks?{urlencode(page)}"
        result: dict[str, Any] = await self._rpc.request(
            self.queue, "GET", uri, timeout=self._timeout
        )
        return result
