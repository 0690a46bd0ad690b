"""The result writer: batches by size and by time, one result per provider per batch,
flush waits for what is in flight, and one failing consumer does not stop the others."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from health_checker.probes import ProbeReport
from health_checker.records import CheckedTarget, Target
from health_checker.services.results import ResultWriter
from health_checker.services.writeback import writeback_body

NOW = datetime(2026, 4, 20, 3, 15, tzinfo=UTC)


def checked(provider_id: str, kind: str = "healthy") -> CheckedTarget:
    report = ProbeReport(kind="healthy") if kind == "healthy" else ProbeReport(kind="timeout")
    return CheckedTarget(Target(provider_id, f"{provider_id}.example.com"), report, NOW)


class Consumer:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.delay = delay
        self.fail = fail

    async def __call__(self, batch: Sequence[CheckedTarget]) -> None:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("consumer down")
        self.batches.append([r.target.provider_id for r in batch])


async def test_full_batches_go_at_once_and_the_rest_after_the_interval() -> None:
    consumer = Consumer()
    writer = ResultWriter([consumer], batch_size=10, flush_interval=0.05)
    writer.start()
    for i in range(25):
        writer.add(checked(f"p{i}"))
    await asyncio.sleep(0)  # let the two full batches start
    assert writer.pending == 5
    await asyncio.wait_for(_written(consumer, 3), 1.0)
    assert [len(b) for b in consumer.batches] == [10, 10, 5]
    await writer.stop()


async def test_a_batch_holds_one_result_per_provider() -> None:
    consumer = Consumer()
    writer = ResultWriter([consumer], batch_size=10, flush_interval=10)
    writer.add(checked("same"))
    writer.add(checked("other"))
    writer.add(checked("same", "timeout"))
    await writer.flush()
    assert consumer.batches == [["same", "other"], ["same"]]


async def test_flush_waits_for_writes_already_running() -> None:
    slow = Consumer(delay=0.05)
    writer = ResultWriter([slow], batch_size=2, flush_interval=10)
    writer.add(checked("a"))
    writer.add(checked("b"))  # full: its write starts now
    writer.add(checked("c"))
    await writer.flush()
    assert sorted(id_ for batch in slow.batches for id_ in batch) == ["a", "b", "c"]


async def test_a_failing_consumer_does_not_stop_the_others() -> None:
    broken, working = Consumer(fail=True), Consumer()
    writer = ResultWriter([broken, working], batch_size=1, flush_interval=10)
    writer.add(checked("a"))
    writer.add(checked("b"))
    await writer.flush()
    assert working.batches == [["a"], ["b"]]
    assert writer.batches_written == 2


def test_the_writeback_body_names_the_probed_hostname_and_time() -> None:
    body = writeback_body([checked("p1"), checked("p2", "timeout")])
    assert body == {
        "results": [
            {
                "provider_id": "p1",
                "hostname": "p1.example.com",
                "status": "healthy",
                "checked_at": "2026-04-20 03:15:00.000000",
            },
            {
                "provider_id": "p2",
                "hostname": "p2.example.com",
                "status": "unhealthy",
                "checked_at": "2026-04-20 03:15:00.000000",
            },
        ]
    }


async def _written(consumer: Consumer, batches: int) -> None:
    while len(consumer.batches) < batches:  # noqa: ASYNC110 - bounded by wait_for
        await asyncio.sleep(0.005)


async def test_stop_does_not_wait_for_a_reply_that_never_comes() -> None:
    """provider-manager stopped holding our write-back: stop gives up after its budget
    instead of waiting the RPC deadline (make run kills what is not down within 10 s)."""
    hung = Consumer(delay=3600)
    local = Consumer()
    writer = ResultWriter([local, hung], batch_size=10, flush_interval=0.05)
    writer.start()
    writer.add(checked("p1"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(writer.stop(budget=0.2), 5.0)
    assert loop.time() - started < 5.0
    assert hung.batches == []  # the hung write was cancelled, not completed
    assert writer.pending == 0
