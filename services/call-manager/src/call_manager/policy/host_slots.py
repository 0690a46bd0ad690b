"""A cap on INVITEs in flight per destination host, per replica.

The transport has one pool of in-flight transaction slots. Without a per-host share, calls
to one black-hole host (no answer until Timer B, 32 s) could hold all of them and every
other customer's INVITEs would wait past their ring timeout. Each host gets at most
`per_host` INVITEs in flight (from INVITE until its setup ends: answer, failure or cancel);
the rest of that host's calls wait for a slot, while calls to other hosts go on. A host is
the destination's name or address, whatever its port: ports of one box share its slots.

The map holds only hosts with INVITEs in flight or waiting, so its size is bounded by the
calls this replica is placing, whatever hosts requests name.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from call_manager.policy.provider_hosts import host_of

HOST_SLOT_WAITS = Counter(
    "call_invite_host_slot_waits_total", "INVITEs that waited for their destination host's cap"
)
HOSTS_IN_FLIGHT = Gauge("call_invite_hosts_in_flight", "Destination hosts with INVITEs in flight")


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    users: int = 0  # holders and waiters
    holding: int = 0


@dataclass
class HostSlots:
    per_host: int = 50
    _hosts: dict[str, _Host] = field(default_factory=dict)

    @asynccontextmanager
    async def slot(self, destination: str) -> AsyncIterator[None]:
        """Hold one of `destination`'s (host[:port]) slots, waiting for it if need be."""
        key = host_of(destination)
        entry = self._hosts.get(key)
        if entry is None:
            entry = self._hosts[key] = _Host(asyncio.Semaphore(self.per_host))
            HOSTS_IN_FLIGHT.set(len(self._hosts))
        entry.users += 1
        try:
            if entry.semaphore.locked():
                HOST_SLOT_WAITS.inc()
            async with entry.semaphore:
                entry.holding += 1
                try:
                    yield
                finally:
                    entry.holding -= 1
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._hosts[key]
                HOSTS_IN_FLIGHT.set(len(self._hosts))

    def in_flight(self, destination: str) -> int:
        entry = self._hosts.get(host_of(destination))
        return 0 if entry is None else entry.holding

    def __len__(self) -> int:
        return len(self._hosts)
