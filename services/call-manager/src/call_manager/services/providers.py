"""The provider a ProviderCall is forced through, asked of provider-manager over RPC."""

from __future__ import annotations

from typing import Any

from shared.clients import ProviderManagerClient
from shared.errors import AppError, ErrorStatus, not_found
from shared.rpc import RpcClient
from shared.timefmt import NEVER


def provider_not_found(provider_id: str) -> AppError:
    return not_found("PROVIDER_NOT_FOUND", f"provider {provider_id} not found")


class ProviderLookup:
    def __init__(self, rpc: RpcClient, queue: str, timeout: float = 3.0) -> None:
        self._provider_manager = ProviderManagerClient(rpc, queue, timeout)

    async def get_active(self, provider_id: str) -> dict[str, Any]:
        """The provider record; 404 when it does not exist or was deleted."""
        try:
            provider = await self._provider_manager.get_provider(provider_id)
        except AppError as err:
            if err.status is ErrorStatus.NOT_FOUND:
                raise provider_not_found(provider_id) from None
            raise
        # provider-manager returns deleted providers too; their tm_delete is a real time.
        if not isinstance(provider, dict) or provider.get("tm_delete", NEVER) != NEVER:
            raise provider_not_found(provider_id)
        return provider
