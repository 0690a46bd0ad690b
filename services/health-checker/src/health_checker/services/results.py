"""Results travel in batches: a round of 10,000 probes is ~20 writes, not 10,000.

A batch is written when it is full or `flush_interval` after its first result, to every
consumer at once (the local record and the write-back to provider-manager). A batch holds at
most one result per provider, because each consumer applies a batch in one statement; a
second result for the same provider waits for the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog

from health_checker.records import CheckedTarget

log = structlog.get_logger("health.results")

BatchConsumer = Callable[[Sequence[CheckedTarget]], Awaitable[None]]
# Longest a stop waits for the last results to be written.
STOP_BUDGET = 2.0


class ResultWriter:
    def __init__(
        self,
        consumers: Sequence[BatchConsumer],
        *,
        batch_size: int,
        flush_interval: float,
        max_parallel: int = 4,
    ) -> None:
        self._consumers = list(consumers)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._buffer: list[CheckedTarget] = []
        self._parallel = asyncio.Semaphore(max_parallel)
        self._writes: set[asyncio.Task[None]] = set()
        self._timer: asyncio.Task[None] | None = None
        self._ticker: asyncio.Event = asyncio.Event()
        self.batches_written = 0

    def start(self) -> None:
        self._timer = asyncio.create_task(self._tick(), name="health-results-timer")

    async def stop(self, budget: float = STOP_BUDGET) -> None:
        """Write what is left, for at most `budget` seconds.

        A write-back whose reply never comes (provider-manager stopped with our request in
        hand, as happens when the whole platform stops at once) would otherwise hold the stop
        for the whole RPC deadline, and `make run` kills what is not down within 10 s. What is
        dropped here is probed again next round."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        try:
            async with asyncio.timeout(budget):
                await self.flush()
        except TimeoutError:
            left = list(self._writes)
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
            log.warning("results_dropped_at_stop", batches=len(left), budget=budget)

    def add(self, result: CheckedTarget) -> None:
        self._buffer.append(result)
        if len(self._buffer) >= self.batch_size:
            self._write_next()
        self._ticker.set()  # the timer writes whatever is left flush_interval from now

    async def flush(self) -> None:
        """Write everything added so far and wait for it (and for writes already running)."""
        while self._buffer:
            self._write_next()
        pending = list(self._writes)
        if pending:
            await asyncio.gather(*pending)

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def _write_next(self) -> None:
        batch = self._take_batch()
        if batch:
            task = asyncio.create_task(self._write(batch))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    def _take_batch(self) -> list[CheckedTarget]:
        batch: list[CheckedTarget] = []
        rest: list[CheckedTarget] = []
        seen: set[str] = set()
        for result in self._buffer:
            pid = result.target.provider_id
            if len(batch) < self.batch_size and pid not in seen:
                seen.add(pid)
                batch.append(result)
            else:
                rest.append(result)
        self._buffer = rest
        return batch

    async def _write(self, batch: list[CheckedTarget]) -> None:
        async with self._parallel:
            outcomes = await asyncio.gather(
                *(consumer(batch) for consumer in self._consumers), return_exceptions=True
            )
        self.batches_written += 1
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                # Consumers report their own failures; this is the last line of defence.
                log.error("result_batch_failed", error=repr(outcome), size=len(batch))

    async def _tick(self) -> None:
        while True:
            await self._ticker.wait()
            self._ticker.clear()
            await asyncio.sleep(self.flush_interval)
            while self._buffer:
                self._write_next()
