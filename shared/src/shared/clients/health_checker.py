"""health-checker over RPC: a provider's probe history and the console's probe targets."""

from __future__ import annotations

from collections.abc import Mapping

from shared.clients.base import ServiceClient, Wire

SERVICE = "health-checker"


class HealthCheckerClient(ServiceClient):
    async def health_checks(self, provider_id: str, page: Mapping[str, str]) -> Wire:
        """A page of the provider's probes; `page` holds page_size and page_token."""
        return await self._call("GET", f"/v1/providers/{provider_id}/health_checks", query=page)

    async def probe_targets(self, timeout: float | None = None) -> Wire:
        """What it probes, with each target's latest result (the console's board)."""
        return await self._call("GET", "/v1/probe_targets", timeout=timeout)
