"""BYEs for the answered calls of a dead replica, sent by the survivor that reaped it.

Each stored dialog (see `dialogs` table) gets one BYE transaction (retransmitted per Timer E
until a final response or Timer F); at most `concurrency` run at once so that a replica
holding thousands of calls does not flood the carrier or our socket. A slot is held until
the final response (or Timer F, 32 s), so the bound is set well above a replica's usual
call count: a carrier that never answers BYEs must not hold back the next BYEs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from shared.sip.errors import SipError
from shared.sip.remote_bye import bye_stored_dialog
from shared.sip.resolver import SipResolver
from shared.sip.timers import SipTimers
from shared.sip.transport import SipTransport

log = structlog.get_logger("call.survivor")
REASON = 'SIP;cause=500;text="call-manager replica lost"'

SURVIVOR_BYES = Counter(
    "call_manager_survivor_byes_total",
    "BYEs sent for dead replicas' calls, by outcome (answered: any final response)",
    ["outcome"],
)
SURVIVOR_BYE_SECONDS = Histogram(
    "call_manager_survivor_bye_seconds",
    "From the reaper's decision to the BYE's final response",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)


class SurvivorBye:
    def __init__(
        self,
        transport: SipTransport,
        resolver: SipResolver,
        timers: SipTimers,
        concurrency: int = 1000,
    ) -> None:
        self._transport = transport
        self._resolver = resolver
        self._timers = timers
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def end_all(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Start a BYE for each stored dialog; returns at once."""
        started = time.monotonic()
        for record in records:
            task = asyncio.get_running_loop().create_task(self._one(dict(record), started))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        log.warning("survivor_byes_started", dialogs=len(records))

    async def _one(self, record: dict[str, Any], started: float) -> None:
        async with self._slots:
            try:
                response = await bye_stored_dialog(
                    self._transport, self._resolver, record, timers=self._timers, reason=REASON
                )
            except (SipError, KeyError, ValueError) as exc:
                SURVIVOR_BYES.labels(outcome="unusable").inc()
                log.warning(
                    "survivor_bye_unusable", call_id=str(record.get("call_id")), error=str(exc)
                )
                return
        SURVIVOR_BYES.labels(outcome="answered" if response is not None else "timeout").inc()
        if response is not None:
            SURVIVOR_BYE_SECONDS.observe(time.monotonic() - started)

    async def wait_idle(self, timeout: float) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
