"""RPC handler for POST /v1/calls (ordinary outbound calls, routed by dial routes).

Body: the CallCreate fields plus `customer_id` (required; the gateway sets it from the
caller's identity) and optional `idempotency_key`. Reply: CallCreateResult
`{"calls": [Call], "groupcalls": [Groupcall]}`; 422 NO_ROUTE when a number has no route.
"""

from __future__ import annotations

from shared.contracts.calls import CallCreate
from shared.contracts.validation import parse_body
from shared.requests import new_id
from shared.rpc import Reply, RpcContext

from call_manager.handlers.common import create_customer, idempotency_key
from call_manager.services.outbound_calls import OutboundCallService


class OutboundCallHandlers:
    def __init__(self, service: OutboundCallService) -> None:
        self._service = service

    async def create(self, ctx: RpcContext) -> Reply:
        data = ctx.body()
        customer_id = create_customer(data)
        key = idempotency_key(data.get("idempotency_key"))
        body = parse_body(CallCreate, data)
        # The request's id roots the ids of everything it creates (see new_id).
        return Reply(await self._service.create(new_id(ctx), customer_id, body, key))
