"""A provider's Digest credentials, asked of provider-manager only when a carrier challenges.

GET /v1/providers/{id}/credentials is provider-manager's internal route (the gateway does not
expose it). The answer is kept in memory for CACHE_SECONDS so a busy trunk that challenges
every INVITE costs one RPC per interval, not one per call; it is never logged, stored or put
in an event. A changed password is used at the latest CACHE_SECONDS later.
"""

from __future__ import annotations

import time

import structlog
from shared.clients import ProviderManagerClient
from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcClient
from shared.sip.digest import Credentials

log = structlog.get_logger("call.credentials")

CACHE_SECONDS = 10.0
CACHE_MAX = 1024


class CredentialLookup:
    def __init__(self, rpc: RpcClient, queue: str, timeout: float = 3.0) -> None:
        self._provider_manager = ProviderManagerClient(rpc, queue, timeout)
        self._cache: dict[str, tuple[float, Credentials | None]] = {}

    async def get(self, provider_id: str) -> Credentials | None:
        """The credentials, or None when the provider has none (or is gone). Other failures
        (provider-manager down) raise: the call fails with that reason."""
        now = time.monotonic()
        cached = self._cache.get(provider_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            reply = await self._provider_manager.provider_credentials(provider_id)
        except AppError as err:
            if err.status is not ErrorStatus.NOT_FOUND:
                raise
            found: Credentials | None = None
        else:
            found = Credentials(str(reply["auth_username"]), str(reply["auth_password"]))
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[provider_id] = (now + CACHE_SECONDS, found)
        log.info("provider_credentials_fetched", provider_id=provider_id, found=found is not None)
        return found
