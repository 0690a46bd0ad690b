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
large backlog chunk by chunk. Targets that failed last time are claimed first: each silent
one holds a slot for the whole timeout, and started first their waits overlap the rest of
the round (with more slots than silent carriers, a round ends about one timeout after it
starts; with fewer, silent carriers take ceil(silent / slots) timeouts).

Rounds run one after another in one task: a round that outlasts the interval is logged and
counted (health_check_round_overruns_total) and the next one starts when it ends, never
stacked on top of it.

A provider created or given a new hostname is probed within about a second, also during a
long round: the replica that consumed the event claims that single target at once (the fast
lane) with the same lease rule, sharing the same slots.

Probes run on a fixed pool of HEALTH_CHECK_CONCURRENCY worker tasks fed from a queue, not a
task per probe: at 10,000 probes a round, task creation and bookkeeping were a measurable
share of the CPU.
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
from health_checker.probes import PROBE_KINDS, Probe, ProbeReport, failed
from health_checker.records import CheckedTarget, Target

log = structlog.get_logger("health.scheduler")

# A probe gets its own deadline plus this much before the watchdog abandons it, so one hung
# probe can never hold a slot (or a provider's state) forever. One sweep a second checks
# every worker: a timer per probe cost ~6 us each, 3% of a 10,000-probe round.
WATCHDOG_GRACE = 1.0
WATCHDOG_PERIOD = 1.0
STOP_ATTEMPTS = 10
STOP_WAIT = 0.5

# Bound once: labels() takes a lock and a dict lookup on every call.
_PROBES_BY_KIND = {kind: PROBES.labels(kind) for kind in PROBE_KINDS}


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
        # Read at scrape time rather than set on every probe.
        IN_FLIGHT.set_function(lambda: self.used)

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
        return taken

    def release(self, count: int = 1) -> None:
        self.used -= count
        self._freed.set()


class _Tally:
    """Counts a round's probes still to finish."""

    def __init__(self) -> None:
        self.pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def add(self) -> None:
        self.pending += 1
        self._idle.clear()

    def done(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self._idle.set()

    async def wait(self) -> None:
        await self._idle.wait()


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
        self._work: asyncio.Queue[tuple[Target, _Tally | None]] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        # Per worker: the loop time by which its current probe must be done (None: idle).
        self._deadlines: list[float | None] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False
        self.abandoned = 0
        self._fast_lane: set[asyncio.Task[None]] = set()
        self.rounds: list[RoundStats] = []  # the latest few, for tests and benchmarks
        self.probed = 0  # probes this replica ran, rounds and fast lane

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="health-scheduler")

    async def stop(self) -> None:
        self._stopping = True
        tasks = {
            t
            for t in (self._loop_task, self._watchdog, *self._fast_lane, *self._workers)
            if t is not None
        }
        # A cancellation can be lost: on Python 3.11 asyncio.wait_for (dnspython awaits every
        # DNS answer with it) drops one that lands as the answer arrives, and the probe then
        # carries on. So cancel again until every task is done, instead of awaiting forever.
        for _ in range(STOP_ATTEMPTS):
            pending = {t for t in tasks if not t.done()}
            if not pending:
                break
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=STOP_WAIT)
        stuck = [t.get_name() for t in tasks if not t.done()]
        if stuck:
            log.error("scheduler_tasks_did_not_stop", tasks=stuck)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error(
                    "scheduler_task_failed", task=task.get_name(), error=repr(task.exception())
                )

    def wake(self) -> None:
        """Look for due targets now instead of at the next poll."""
        self._wake.set()

    def probe_soon(self, provider_id: str) -> None:
        """Fast lane: probe this provider now if it is due (new, or hostname changed)."""
        task = asyncio.create_task(self._probe_if_due(provider_id))
        self._fast_lane.add(task)
        task.add_done_callback(self._fast_lane.discard)

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
        self._ensure_workers()
        tally = _Tally()
        claimed = 0
        while True:
            want = self._claim_batch
            # Wait for half a chunk of free slots: fewer, fuller claim queries.
            reserved = await self.slots.reserve(max(1, want // 2), want)
            try:
                targets = await self._claims.claim_due(cutoff, reserved)
            except BaseException:
                self.slots.release(reserved)
                raise
            self.slots.release(reserved - len(targets))
            for target in targets:
                tally.add()
                self._work.put_nowait((target, tally))
            claimed += len(targets)
            if len(targets) < reserved:
                break  # everything due at the start of the round is claimed
        if not claimed:
            return None
        await tally.wait()
        await self._sink.flush()
        stats = self._finish_round(claimed, time.perf_counter() - started)
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

    def _ensure_workers(self) -> None:
        if not self._workers:
            self._deadlines = [None] * self.slots.limit
            self._workers = [
                asyncio.create_task(self._worker(i), name=f"health-probe-{i}")
                for i in range(self.slots.limit)
            ]
            self._watchdog = asyncio.create_task(self._watch(), name="health-probe-watchdog")

    async def _worker(self, index: int) -> None:
        while not self._stopping:  # also ends a worker whose cancellation was lost
            target, tally = await self._work.get()
            try:
                await self._probe_claimed(index, target)
            except Exception:
                log.exception("probe_worker_failed", provider_id=target.provider_id)
            finally:
                if tally is not None:
                    tally.done()

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCHDOG_PERIOD)
            now = loop.time()
            for index, deadline in enumerate(self._deadlines):
                if deadline is not None and deadline < now:
                    # Lands inside _guarded_probe: the worker is suspended in its probe.
                    self._deadlines[index] = None
                    self.abandoned += 1
                    self._workers[index].cancel()

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
        self._ensure_workers()
        self._work.put_nowait((target, None))

    async def _probe_claimed(self, index: int, target: Target) -> None:
        """Probe a claimed target (its slot already taken) and hand the result on."""
        self.probed += 1
        self._deadlines[index] = asyncio.get_running_loop().time() + self.timeout + WATCHDOG_GRACE
        try:
            report = await self._guarded_probe(target.hostname, target.transport)
        finally:
            self._deadlines[index] = None
            self.slots.release()
        _PROBES_BY_KIND[report.kind].inc()
        if report.rtt_ms is not None:
            PROBE_RTT.observe(report.rtt_ms / 1000.0)
        self._sink.add(CheckedTarget(target, report, utcnow()))

    async def _guarded_probe(self, hostname: str, transport: str) -> ProbeReport:
        try:
            return await self._probe(hostname, self.timeout, transport)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._stopping or task is None:
                raise
            task.uncancel()  # the watchdog's cancel: this worker carries on
            log.error("probe_hung", hostname=hostname, timeout=self.timeout)
            return failed("error", f"probe did not finish within {self.timeout:g}s")
        except Exception as exc:
            log.exception("probe_crashed", hostname=hostname)
            return failed("error", f"probe failed: {exc.__class__.__name__}")
