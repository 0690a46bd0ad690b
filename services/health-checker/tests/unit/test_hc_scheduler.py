"""Scheduling with an in-memory target table and a fake probe: claims, the concurrency cap,
rounds that overrun, the fast lane, and the watchdog."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import structlog
import structlog.testing
from health_checker.probes import ProbeReport
from health_checker.records import CheckedTarget, Target
from health_checker.services import scheduler as scheduler_module
from health_checker.services.scheduler import ProbeScheduler, Slots
from prometheus_client import REGISTRY


@dataclass
class _Row:
    hostname: str
    next_due: datetime


@dataclass
class FakeClaims:
    """probe_targets in memory, with the SQL's rule: claiming moves next_due one interval on."""

    interval: float
    rows: dict[str, _Row] = field(default_factory=dict)
    claims: list[str] = field(default_factory=list)
    fail: bool = False

    def add(self, provider_id: str, hostname: str, due_in: float = 0.0) -> None:
        self.rows[provider_id] = _Row(hostname, _now() + timedelta(seconds=due_in))

    async def db_now(self) -> datetime:
        return _now()

    async def claim_due(self, cutoff: datetime, limit: int) -> list[Target]:
        await asyncio.sleep(0)  # a database round trip lets other tasks run
        if self.fail:
            raise ConnectionError("database went away")
        due = sorted(
            (pid for pid, row in self.rows.items() if row.next_due <= cutoff),
            key=lambda pid: self.rows[pid].next_due,
        )[:limit]
        return [self._claim(pid) for pid in due]

    async def claim_one(self, provider_id: str) -> Target | None:
        await asyncio.sleep(0)
        row = self.rows.get(provider_id)
        if row is None or row.next_due > _now():
            return None
        return self._claim(provider_id)

    def _claim(self, provider_id: str) -> Target:
        row = self.rows[provider_id]
        row.next_due = _now() + timedelta(seconds=self.interval)
        self.claims.append(provider_id)
        return Target(provider_id, row.hostname)


@dataclass
class FakeSink:
    results: list[CheckedTarget] = field(default_factory=list)
    flushes: int = 0

    def add(self, result: CheckedTarget) -> None:
        self.results.append(result)

    async def flush(self) -> None:
        self.flushes += 1


class FakeProbe:
    """Answers after `delay`; hostnames in `hang` never answer; in `crash` raise; in
    `swallow` wait, and answer normally when cancelled (as a lost cancellation looks)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.hang: set[str] = set()
        self.crash: set[str] = set()
        self.swallow: set[str] = set()
        self.running = 0
        self.peak = 0
        self.calls: list[str] = []
        self.transports: list[str] = []

    async def __call__(self, hostname: str, timeout: float, transport: str = "") -> ProbeReport:
        self.calls.append(hostname)
        self.transports.append(transport)
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            if hostname in self.crash:
                raise RuntimeError("boom")
            if hostname in self.hang:
                await asyncio.Event().wait()
            if hostname in self.swallow:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()
            await asyncio.sleep(self.delay)
            return ProbeReport(kind="healthy", status_code=200, reason="OK", rtt_ms=1.0)
        finally:
            self.running -= 1


def _now() -> datetime:
    return datetime.now(UTC)


async def _until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.002)


_started: list[ProbeScheduler] = []


@pytest.fixture(autouse=True)
async def _stop_schedulers() -> AsyncIterator[None]:
    """Workers are long-lived tasks: stop every scheduler a test made."""
    yield
    while _started:
        await _started.pop().stop()


def _scheduler(
    claims: FakeClaims,
    probe: FakeProbe,
    sink: FakeSink,
    *,
    concurrency: int = 10,
    interval: float = 10.0,
    timeout: float = 1.0,
    claim_batch: int = 500,
) -> ProbeScheduler:
    scheduler = ProbeScheduler(
        claims,
        probe,
        sink,
        interval=interval,
        timeout=timeout,
        concurrency=concurrency,
        poll_interval=0.01,
        claim_batch=claim_batch,
    )
    _started.append(scheduler)
    return scheduler


async def test_a_round_probes_every_due_target_once_within_the_cap() -> None:
    claims, probe, sink = FakeClaims(interval=10), FakeProbe(delay=0.01), FakeSink()
    for i in range(50):
        claims.add(f"p{i}", f"host{i}")
    claims.add("later", "later-host", due_in=60)
    scheduler = _scheduler(claims, probe, sink, concurrency=5)

    stats = await scheduler.run_round()

    assert stats is not None and stats.targets == 50 and not stats.overran
    assert sorted(claims.claims) == sorted(f"p{i}" for i in range(50))
    assert sorted(r.target.provider_id for r in sink.results) == sorted(claims.claims)
    assert probe.peak == 5  # the cap was used and never exceeded
    assert scheduler.slots.used == 0
    assert sink.flushes == 1  # the round's results are written before it counts as done
    assert await scheduler.run_round() is None  # nothing is due any more


async def test_claims_come_in_chunks_no_bigger_than_the_free_slots() -> None:
    claims, probe, sink = FakeClaims(interval=10), FakeProbe(delay=0.005), FakeSink()
    for i in range(30):
        claims.add(f"p{i}", f"host{i}")
    chunks: list[int] = []
    original = claims.claim_due

    async def recording(cutoff: datetime, limit: int) -> list[Target]:
        chunks.append(limit)
        return await original(cutoff, limit)

    claims.claim_due = recording  # type: ignore[method-assign]
    await _scheduler(claims, probe, sink, concurrency=8).run_round()
    assert max(chunks) <= 8
    assert len(chunks) > 3


async def test_a_round_that_overruns_is_logged_and_counted_never_stacked() -> None:
    claims, probe, sink = FakeClaims(interval=0.05), FakeProbe(delay=0.15), FakeSink()
    claims.add("slow", "slow-host")
    scheduler = _scheduler(claims, probe, sink, interval=0.05)
    overruns = REGISTRY.get_sample_value("health_check_round_overruns_total") or 0.0

    active = 0
    overlaps = 0
    original = scheduler.run_round

    async def tracked() -> object:
        nonlocal active, overlaps
        active += 1
        overlaps += active > 1
        try:
            return await original()
        finally:
            active -= 1

    scheduler.run_round = tracked  # type: ignore[method-assign,assignment]
    with structlog.testing.capture_logs() as logs:
        scheduler.start()
        await _until(lambda: len([r for r in scheduler.rounds if r.overran]) >= 2)
        await scheduler.stop()

    assert len([r for r in scheduler.rounds if r.overran]) >= 2
    assert overlaps == 0
    assert (REGISTRY.get_sample_value("health_check_round_overruns_total") or 0) >= overruns + 2
    warned = [e for e in logs if e["event"] == "round_overran"]
    assert warned and warned[0]["interval"] == 0.05 and warned[0]["targets"] == 1


async def test_a_hung_probe_is_abandoned_by_the_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    claims, probe, sink = FakeClaims(interval=10), FakeProbe(), FakeSink()
    claims.add("stuck", "stuck-host")
    claims.add("next", "next-host", due_in=-1)  # due earlier: probed first
    probe.hang.add("stuck-host")
    monkeypatch.setattr(scheduler_module, "WATCHDOG_GRACE", 0.05)
    monkeypatch.setattr(scheduler_module, "WATCHDOG_PERIOD", 0.02)
    # One worker: it must survive the abandoned probe to serve the rest of the round.
    claims.rows["stuck"].next_due -= timedelta(seconds=5)
    scheduler = _scheduler(claims, probe, sink, timeout=0.01, concurrency=1)
    await asyncio.wait_for(scheduler.run_round(), 2.0)
    by_id = {r.target.provider_id: r.report for r in sink.results}
    assert by_id["stuck"].kind == "error" and not by_id["stuck"].healthy
    assert "did not finish" in (by_id["stuck"].error or "")
    assert by_id["next"].healthy
    assert scheduler.abandoned == 1
    assert scheduler.slots.used == 0
    await scheduler.stop()


async def test_a_crashing_probe_is_an_error_result_not_a_dead_scheduler() -> None:
    claims, probe, sink = FakeClaims(interval=10), FakeProbe(), FakeSink()
    claims.add("bad", "bad-host")
    claims.add("good", "good-host")
    probe.crash.add("bad-host")
    await _scheduler(claims, probe, sink).run_round()
    by_id = {r.target.provider_id: r.report for r in sink.results}
    assert by_id["bad"].kind == "error" and by_id["bad"].error == "probe failed: RuntimeError"
    assert by_id["good"].healthy


async def test_the_fast_lane_probes_a_due_target_during_a_long_round() -> None:
    claims, probe, sink = FakeClaims(interval=10), FakeProbe(), FakeSink()
    claims.add("slow", "slow-host")
    probe.hang.add("slow-host")
    scheduler = _scheduler(claims, probe, sink, concurrency=2, timeout=5.0)
    round_task = asyncio.create_task(scheduler.run_round())
    await _until(lambda: "slow" in claims.claims)

    claims.add("new", "new-host")
    claims.add("not-due", "other-host", due_in=60)
    scheduler.probe_soon("new")
    scheduler.probe_soon("not-due")
    await _until(lambda: bool(sink.results))

    assert [r.target.provider_id for r in sink.results] == ["new"]
    assert not round_task.done()
    # Only the hung round probe holds a slot: the not-due target gave its slot back.
    await _until(lambda: scheduler.slots.used == 1 and len(probe.calls) == 2)
    await scheduler.stop()
    round_task.cancel()


async def test_stop_ends_workers_whose_cancellation_was_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Python 3.11's asyncio.wait_for (under dnspython) can drop a cancellation that lands as
    # its answer arrives; the probe then returns normally. stop() must still finish.
    monkeypatch.setattr(scheduler_module, "STOP_WAIT", 0.05)
    claims, probe, sink = FakeClaims(interval=10), FakeProbe(), FakeSink()
    claims.add("p", "resolving-host")
    probe.swallow.add("resolving-host")
    scheduler = _scheduler(claims, probe, sink, concurrency=3, timeout=30)
    round_task = asyncio.create_task(scheduler.run_round())
    await _until(lambda: probe.running == 1)
    await asyncio.wait_for(scheduler.stop(), 2.0)
    assert all(w.done() for w in scheduler._workers)
    round_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await round_task


async def test_a_failed_claim_gives_its_slots_back() -> None:
    claims, probe, sink = FakeClaims(interval=10, fail=True), FakeProbe(), FakeSink()
    claims.add("p", "h")
    scheduler = _scheduler(claims, probe, sink)
    with pytest.raises(ConnectionError):
        await scheduler.run_round()
    assert scheduler.slots.used == 0


async def test_slots_wait_until_enough_are_free() -> None:
    slots = Slots(4)
    assert await slots.reserve(1, 3) == 3
    waiter = asyncio.create_task(slots.reserve(2, 4))
    await asyncio.sleep(0.01)
    assert not waiter.done()  # one free, two wanted
    slots.release()
    assert await asyncio.wait_for(waiter, 1) == 2
    assert slots.used == 4 and slots.peak == 4
