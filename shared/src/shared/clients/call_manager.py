"""call-manager over RPC: ProviderCalls, calls and groupcalls, call metrics and caller IDs.
Replies are the wire shapes of shared.contracts.

`customer_id` on a call or groupcall request scopes it to one customer: call-manager answers
404 for another customer's call and lists only theirs (None: every customer's).
"""

from __future__ import annotations

from typing import Literal

from shared.clients.base import ServiceClient, Wire

SERVICE = "call-manager"
# Creating resolves the provider and group destinations over RPC before answering.
CREATE_TIMEOUT = 15.0
# A hangup waits (briefly) for call-manager to have started the CANCEL or BYE.
HANGUP_TIMEOUT = 8.0

CallKind = Literal["calls", "groupcalls"]


class CallManagerClient(ServiceClient):
    # providercalls
    async def list_providercalls(
        self, page_size: str | None, page_token: str | None, provider_id: str | None
    ) -> Wire:
        query = {"page_size": page_size, "page_token": page_token, "provider_id": provider_id}
        return await self._call("GET", "/v1/providercalls", query=query)

    async def create_providercall(self, body: Wire) -> Wire:
        return await self._call("POST", "/v1/providercalls", body, timeout=CREATE_TIMEOUT)

    async def get_providercall(self, providercall_id: str) -> Wire:
        return await self._call("GET", f"/v1/providercalls/{providercall_id}")

    async def delete_providercall(self, providercall_id: str) -> Wire:
        return await self._call("DELETE", f"/v1/providercalls/{providercall_id}")

    # calls and groupcalls (`kind`): the same operations on either
    async def create_calls(self, body: Wire) -> Wire:
        return await self._call("POST", "/v1/calls", body, timeout=CREATE_TIMEOUT)

    async def list_calls(
        self, kind: CallKind, page_size: str, page_token: str, customer_id: str | None
    ) -> Wire:
        query = {"page_size": page_size, "page_token": page_token, "customer_id": customer_id}
        return await self._call("GET", f"/v1/{kind}", query=query)

    async def get_call(self, kind: CallKind, call_id: str, customer_id: str | None) -> Wire:
        query = {"customer_id": customer_id}
        return await self._call("GET", f"/v1/{kind}/{call_id}", query=query)

    async def hangup_call(
        self,
        kind: CallKind,
        call_id: str,
        customer_id: str | None,
        timeout: float = HANGUP_TIMEOUT,
    ) -> Wire:
        query = {"customer_id": customer_id}
        path = f"/v1/{kind}/{call_id}/hangup"
        return await self._call("POST", path, query=query, timeout=timeout)

    # a provider's call metrics
    async def call_metrics(self, provider_id: str, window_seconds: int) -> Wire:
        query = {"window_seconds": str(window_seconds)}
        return await self._call("GET", f"/v1/providers/{provider_id}/call_metrics", query=query)

    # caller IDs
    async def list_caller_ids(self, customer_id: str | None) -> Wire:
        return await self._call("GET", "/v1/caller_ids", query={"customer_id": customer_id})

    async def create_caller_id(self, body: Wire) -> Wire:
        return await self._call("POST", "/v1/caller_ids", body)

    async def get_caller_id(self, caller_id: str) -> Wire:
        return await self._call("GET", f"/v1/caller_ids/{caller_id}")

    async def delete_caller_id(self, caller_id: str) -> Wire:
        return await self._call("DELETE", f"/v1/caller_ids/{caller_id}")
