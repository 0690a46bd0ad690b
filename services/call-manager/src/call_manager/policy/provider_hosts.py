"""The carriers' hosts, asked of provider-manager and kept briefly.

A customer's sip destination at a provider's host would reach the carrier from our
whitelisted address with no route (and bill us), so the dial policy refuses those hosts
and the addresses they resolve to. The list is refreshed every `refresh_seconds`; when
provider-manager cannot answer, the last list is used for up to `stale_seconds`, and after
that sip destinations are refused with 503 (fail closed: the check cannot be skipped).
"""

from __future__ import annotations

import asyncio
import time

from shared.clients import ProviderManagerClient
from shared.errors import AppError
from shared.rpc import RpcClient
from shared.sip.errors import SipParseError
from shared.sip.uri import split_host_port
from shared.unavailable import unavailable


def host_port_of(hostname: str) -> tuple[str, int | None]:
    """`Sip.Carrier.example:5060` -> (`sip.carrier.example`, 5060)."""
    try:
        host, port = split_host_port(hostname)
    except SipParseError:
        host, port = hostname, None
    return host.strip("[]").lower().rstrip("."), port


def host_of(hostname: str) -> str:
    return host_port_of(hostname)[0]


class ProviderHosts:
    def __init__(
        self,
        rpc: RpcClient,
        queue: str,
        timeout: float = 3.0,
        # Short: a provider created a moment ago must already be refused. One fetch still
        # serves every destination of one request.
        refresh_seconds: float = 0.25,
        stale_seconds: float = 300.0,
    ) -> None:
        self._provider_manager = ProviderManagerClient(rpc, queue, timeout)
        self.refresh_seconds = refresh_seconds
        self.stale_seconds = stale_seconds
        self._hosts: frozenset[tuple[str, int | None]] | None = None
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def hosts(self) -> frozenset[tuple[str, int | None]]:
        """(lower-case host, port or None) of every active provider."""
        if self._hosts is not None and time.monotonic() - self._fetched < self.refresh_seconds:
            return self._hosts
        async with self._lock:  # one refresh at a time, the others wait for its answer
            if self._hosts is not None and time.monotonic() - self._fetched < self.refresh_seconds:
                return self._hosts
            try:
                found = await self._provider_manager.hostnames()
            except AppError:
                if (
                    self._hosts is not None
                    and time.monotonic() - self._fetched < self.stale_seconds
                ):
                    return self._hosts
                raise unavailable("provider-manager (for the dial policy)", 2) from None
            names = found.get("hostnames", []) if isinstance(found, dict) else []
            self._hosts = frozenset(host_port_of(str(name)) for name in names)
            self._fetched = time.monotonic()
            return self._hosts
