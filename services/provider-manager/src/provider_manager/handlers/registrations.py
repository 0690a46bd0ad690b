"""RPC handler for POST /v1/providers/registrations (the registration owner's reports)."""

from __future__ import annotations

from shared.contracts.providers import RegistrationReportBatch
from shared.contracts.validation import parse_body
from shared.rpc import RpcContext

from provider_manager.services.registrations import RegistrationService


class RegistrationHandlers:
    def __init__(self, service: RegistrationService) -> None:
        self._service = service

    async def apply(self, ctx: RpcContext) -> dict[str, int]:
        return await self._service.apply(parse_body(RegistrationReportBatch, ctx.data))
