"""When each provider is probed, by which replica, and how many probes run at once.

Targets live in the shared `probe_targets` table with a `next_due_at`. A replica claims due
targets with one statement: `SELECT ... WHERE next_due_at <= cutoff ... FOR UPDATE SKIP
LOCKED` feeding an `UPDATE ... SET next_due_at = now() + interval * (1 +- jitter)`. The claim
commits at once, so the moved `next_due_at` is the lease: every other replica sees the target
as not due until the next round, and SKIP LOCKED lets replicas claiming at the same moment
take disjoint sets instead of waiting on each other. No replica probes a target twice in a
round, and none is needed to release anything: a replica that dies mid-round loses only the
probes it had claimed, which are due again one interval later. The jitter spreads a fleet
created in one go over the interval, so steady-state rounds are small and even.

A round claims what was due at its start (never what becomes due during it), in chunks no
larger than the free probe slots, so claiming keeps pace with probing and replicas share a
large backlog chunk by chunk. Rounds run one after another in one task: a round that
outlasts the interval is logged and counted (health_check_round_overruns_total) and the next
one starts when it ends, never stacked on top of it.

A provider created or given a new hostname is probed within about a second, also during a
long round: the replica that consumed the event claims that single target at once (the fast
lane) with the same lease rule, sharing the same slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from shared.timefmt import utcnow

from health_checker.metrics import (
    IN_FLIGHT,
    LAST_ROUND_SECONDS,
    LAST_ROUND_TARGETS,
    PROBE_RTT,
    PROBES,
    ROUND_OVERRUNS,
    ROUND_SECONDS,
    ROUNDS,
)
from health_checker.probes import Probe, ProbeReport, failed
from health_checker.records import CheckedTarget, Target

log = structlog.get_logger("health.scheduler")

# A probe gets its own deadline plus this much before the watchdog abandons it, so one hung
# probe can never hold a slot (or a provider's state) forever.
WATCHDOG_GRACE = 1.0


class TargetClaims(Protocol):
    async def db_now(self) -> datetime: ...

    async def claim_due(self, cutoff: datetime, limit: int) -> list[Target]: ...

    async def claim_one(self, provider_id: str) -> Target | None: ...


class ResultSink(Protocol):
    def add(self, result: CheckedTarget) -> None: ...

    async def flush(self) -> None: ...


class Slots:
    """Counts probes in flight against HEALTH_CHECK_CONCURRENCY."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0
        self._freed = asyncio.Event()

    @property
    def free(self) -> int:
        return self.limit - self.used

    async def reserve(self, at_least: int, at_most: int) -> int:
        """Wait until `at_least` slots are free, then take up to `at_most` of them."""
        at_least = max(1, min(at_least, self.limit))
        while self.free < at_least:
            self._freed.clear()
            await self._freed.wait()
        taken = min(at_most, self.free)
        self.used += taken
        self.peak = max(self.peak, self.used)
        IN_FLIGHT.set(self.used)
        return taken

    def release(self, count: int = 1) -> None:
        self.used -= count
        IN_FLIGHT.set(self.used)
        self._freed.set()


@dataclass(frozen=True, slots=True)
class RoundStats:
    targets: int
    seconds: float
    overran: bool


class ProbeScheduler:
    def __init__(
        self,
        claims: TargetClaims,
        probe: Probe,
        sink: ResultSink,
        *,
        interval: float,
        timeout: float,
        concurrency: int,
        poll_interval: float,
        claim_batch: int = 500,
        after_round: Callable[[RoundStats], Awaitable[None]] | None = None,
    ) -> None:
        self._claims = claims
        self._probe = probe
        self._sink = sink
        self.interval = interval
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.slots = Slots(concurrency)
        self._claim_batch = max(1, min(claim_batch, concurrency))
        self._after_round = after_round
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._probes: set[asyncio.Task[None]] = set()
        self.rounds: list[RoundStats] = []  # the latest few, for tests and benchmarks
        self.probed = 0  # probes this replica ran, rounds and fast lane

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="health-scheduler")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._probes) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Look for due targets now instead of at the next poll."""
        self._wake.set()

    def probe_soon(self, provider_id: str) -> None:
        """Fast lane: probe this provider now if it is due (new, or hostname changed)."""
        self._spawn(self._probe_if_due(provider_id))

    # -- rounds ------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self.run_round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("round_failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()

    async def run_round(self) -> RoundStats | None:
        """Probe every target due now; None when nothing was due."""
        cutoff = await self._claims.db_now()
        started = time.perf_counter()
        tasks: list[asyncio.Task[None]] = []
        while True:
            want = self._claim_batch
            reserved = await self.slots.reserve(max(1, want // 4), want)
            try:
                targets = await self._claims.claim_due(cutoff, reserved)
            except BaseException:
                self.slots.release(reserved)
                raise
            self.slots.release(reserved - len(targets))
            tasks += [self._spawn(self._probe_claimed(target)) for target in targets]
            if len(targets) < reserved:
                break  # everything due at the start of the round is claimed
        if not tasks:
            return None
        await asyncio.gather(*tasks)
        await self._sink.flush()
        stats = self._finish_round(len(tasks), time.perf_counter() - started)
        if self._after_round is not None:
            try:
                await self._after_round(stats)
            except Exception:
                log.exception("after_round_failed")
        return stats

    def _finish_round(self, targets: int, seconds: float) -> RoundStats:
        stats = RoundStats(targets, seconds, seconds > self.interval)
        self.rounds = [*self.rounds[-19:], stats]
        ROUNDS.inc()
        ROUND_SECONDS.observe(seconds)
        LAST_ROUND_SECONDS.set(seconds)
        LAST_ROUND_TARGETS.set(targets)
        if stats.overran:
            ROUND_OVERRUNS.inc()
            log.warning(
                "round_overran",
                seconds=round(seconds, 3),
                interval=self.interval,
                targets=targets,
                concurrency=self.slots.limit,
            )
        return stats

    # -- probes ------------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)
        return task

    async def _probe_if_due(self, provider_id: str) -> None:
        await self.slots.reserve(1, 1)
        try:
            target = await self._claims.claim_one(provider_id)
        except Exception:
            self.slots.release()
            log.exception("fast_lane_claim_failed", provider_id=provider_id)
            return
        if target is None:
            self.slots.release()  # another replica got it, or it is not due after all
            return
        await self._probe_claimed(target)

    async def _probe_claimed(self, target: Target) -> None:
        """Probe a claimed target (its slot already taken) and hand the result on."""
        self.probed += 1
        try:
            report = await self._guarded_probe(target.hostname)
        finally:
            self.slots.release()
        PROBES.labels(report.kind).inc()
        if report.rtt_ms is not None:
            PROBE_RTT.observe(report.rtt_ms / 1000.0)
        self._sink.add(CheckedTarget(target, report, utcnow()))

    async def _guarded_probe(self, hostname: str) -> ProbeReport:
        try:
            async with asyncio.timeout(self.timeout + WATCHDOG_GRACE):
                return await self._probe(hostname, self.timeout)
        except TimeoutError:
            log.error("probe_hung", hostname=hostname, timeout=self.timeout)
            return failed("error", f"probe did not finish within {self.timeout:g}s")
        except Exception as exc:
            log.exception("probe_crashed", hostname=hostname)
            return failed("error", f"probe failed: {exc.__class__.__name__}")
