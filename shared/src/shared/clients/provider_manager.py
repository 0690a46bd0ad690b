"""provider-manager over RPC: providers, routes, dial routes, carrier setup, credentials, the
health and registration write-backs and the console's board. Replies are the wire shapes of
shared.contracts."""

from __future__ import annotations

from shared.clients.base import ServiceClient, Wire

SERVICE = "provider-manager"


class ProviderManagerClient(ServiceClient):
    # providers
    async def list_providers(self, page_size: str | None, page_token: str | None) -> Wire:
        query = {"page_size": page_size, "page_token": page_token}
        return await self._call("GET", "/v1/providers", query=query)

    async def create_provider(self, body: Wire) -> Wire:
        return await self._call("POST", "/v1/providers", body)

    async def get_provider(self, provider_id: str) -> Wire:
        return await self._call("GET", f"/v1/providers/{provider_id}")

    async def update_provider(self, provider_id: str, body: Wire) -> Wire:
        return await self._call("PUT", f"/v1/providers/{provider_id}", body)

    async def delete_provider(self, provider_id: str) -> Wire:
        return await self._call("DELETE", f"/v1/providers/{provider_id}")

    async def provider_credentials(self, provider_id: str) -> Wire:
        """Internal only: the digest credentials (never exposed by the gateway)."""
        return await self._call("GET", f"/v1/providers/{provider_id}/credentials")

    async def setup_provider(self, body: Wire, timeout: float) -> Wire:
        return await self._call("POST", "/v1/providers/setup", body, timeout=timeout)

    async def apply_health(self, body: Wire, timeout: float | None = None) -> Wire:
        """POST /v1/providers/health: a batch of probe results (shared.contracts.health)."""
        return await self._call("POST", "/v1/providers/health", body, timeout=timeout)

    async def apply_registrations(self, body: Wire) -> Wire:
        """POST /v1/providers/registrations: registration outcomes from the registrar."""
        return await self._call("POST", "/v1/providers/registrations", body)

    async def hostnames(self, timeout: float | None = None) -> Wire:
        """{"hostnames": [...]}: every active provider's hostname (call-manager's dial policy)."""
        return await self._call("GET", "/v1/providers/hostnames", timeout=timeout)

    async def board(self, timeout: float | None = None) -> Wire:
        """The operator console's fleet board: every active provider in one reply."""
        return await self._call("GET", "/v1/providers/board", timeout=timeout)

    # routes
    async def list_routes(
        self, page_size: str | None, page_token: str | None, customer_id: str | None
    ) -> Wire:
        query = {"page_size": page_size, "page_token": page_token, "customer_id": customer_id}
        return await self._call("GET", "/v1/routes", query=query)

    async def create_route(self, body: Wire) -> Wire:
        return await self._call("POST", "/v1/routes", body)

    async def get_route(self, route_id: str) -> Wire:
        return await self._call("GET", f"/v1/routes/{route_id}")

    async def update_route(self, route_id: str, body: Wire) -> Wire:
        return await self._call("PUT", f"/v1/routes/{route_id}", body)

    async def delete_route(self, route_id: str) -> Wire:
        return await self._call("DELETE", f"/v1/routes/{route_id}")

    async def dialroutes(self, customer_id: str, number: str) -> Wire:
        """The providers a customer's call to `number` tries, in order (404 NO_ROUTE)."""
        query = {"customer_id": customer_id, "target": number}
        return await self._call("GET", "/v1/dialroutes", query=query)
