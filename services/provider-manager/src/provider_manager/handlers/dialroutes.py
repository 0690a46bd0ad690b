"""RPC handler for /v1/dialroutes (used by the call-manager, not exposed by the gateway)."""

from __future__ import annotations

from typing import Any

from shared.contracts.routes import DialrouteQuery
from shared.contracts.validation import parse_body
from shared.rpc import RpcContext

from provider_manager.services.dialroutes import DialrouteService


class DialrouteHandlers:
    def __init__(self, service: DialrouteService) -> None:
        self._service = service

    async def resolve(self, ctx: RpcContext) -> dict[str, Any]:
        # VoIPbin callers send the fields as a JSON body; ours use the query string.
        # Query parameters win where both are given.
        fields: dict[str, Any] = {**ctx.body(), **ctx.query}
        raw = ctx.query.get("target")
        if raw is not None and raw.startswith(" "):
            # An unencoded "+" in a query string decodes to a space; no number starts with
            # one, so it can only have been the E.164 plus.
            fields["target"] = "+" + raw[1:]
        return await self._service.resolve(parse_body(DialrouteQuery, fields))
