"""provider-manager over RPC: providers, routes, dial routes, carrier setup, credentials and
the health write-back. Replies are the wire shapes of shared.contracts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from shared.rpc import RpcClient

SERVICE = "provider-manager"
Wire = dict[str, Any]


def _query(params: dict[str, str | None]) -> str:
    given = {k: v for k, v in params.items() if v is not None}
    return f"?{urlencode(given)}" if given else ""


class ProviderManagerClient:
    def __init__(self, rpc: RpcClient, queue: str, timeout: float | None = None) -> None:
        """`queue`: settings.request_queue("provider-manager"); `timeout`: the default
        deadline of a call (None: the RpcClient's)."""
        self._rpc = rpc
        self.queue = queue
        self._timeout = timeout

    async def _request(
        self, method: str, uri: str, data: Any = None, timeout: float | None = None
    ) -> Any:
        return await self._rpc.request(
            self.queue, method, uri, data, timeout=timeout or self._timeout
        )

    # providers
    async def list_providers(self, page_size: str | None, page_token: str | None) -> Wire:
        query = _query({"page_size": page_size, "page_token": page_token})
        result: Wire = await self._request("GET", f"/v1/providers{query}")
        return result

    async def create_provider(self, body: Wire) -> Wire:
        result: Wire = await self._request("POST", "/v1/providers", body)
        return result

    async def get_provider(self, provider_id: str) -> Wire:
        result: Wire = await self._request("GET", f"/v1/providers/{provider_id}")
        return result

    async def update_provider(self, provider_id: str, body: Wire) -> Wire:
        result: Wire = await self._request("PUT", f"/v1/providers/{provider_id}", body)
        return result

    async def delete_provider(self, provider_id: str) -> Wire:
        result: Wire = await self._request("DELETE", f"/v1/providers/{provider_id}")
        return result

    async def provider_credentials(self, provider_id: str) -> Wire:
        """Internal only: the digest credentials (never exposed by the gateway)."""
        result: Wire = await self._request("GET", f"/v1/providers/{provider_id}/credentials")
        return result

    async def setup_provider(self, body: Wire, timeout: float) -> Wire:
        result: Wire = await self._request("POST", "/v1/providers/setup", body, timeout)
        return result

    async def apply_health(self, body: Wire, timeout: float | None = None) -> Wire:
        """POST /v1/providers/health: a batch of probe results (shared.contracts.health)."""
        result: Wire = await self._request("POST", "/v1/providers/health", body, timeout)
        return result

    async def apply_registrations(self, body: Wire) -> Wire:
        """POST /v1/providers/registrations: registration outcomes from the registrar."""
        result: Wire = await self._request("POST", "/v1/providers/registrations", body)
        return result

    # routes
    async def list_routes(
        self, page_size: str | None, page_token: str | None, customer_id: str | None
    ) -> Wire:
        query = _query(
            {"page_size": page_size, "page_token": page_token, "customer_id": customer_id}
        )
        result: Wire = await self._request("GET", f"/v1/routes{query}")
        return result

    async def create_route(self, body: Wire) -> Wire:
        result: Wire = await self._request("POST", "/v1/routes", body)
        return result

    async def get_route(self, route_id: str) -> Wire:
        result: Wire = await self._request("GET", f"/v1/routes/{route_id}")
        return result

    async def update_route(self, route_id: str, body: Wire) -> Wire:
        result: Wire = await self._request("PUT", f"/v1/routes/{route_id}", body)
        return result

    async def delete_route(self, route_id: str) -> Wire:
        result: Wire = await self._request("DELETE", f"/v1/routes/{route_id}")
        return result

    async def dialroutes(self, customer_id: str, number: str) -> Wire:
        """The providers a customer's call to `number` tries, in order (404 NO_ROUTE)."""
        query = _query({"customer_id": customer_id, "target": number})
        result: Wire = await self._request("GET", f"/v1/dialroutes{query}")
        return result
