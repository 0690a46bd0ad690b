"""The writer's batching of queued AMQP frames (shared.frame_batching): order kept, and a
frame someone waits on or that closes the connection ends its batch."""

from __future__ import annotations

import asyncio

import aiormq.connection
from aiormq.abc import ChannelFrame
from shared.frame_batching import BatchingFrameGenerator, batch_waiting

from shared import frame_batching


def _frame(payload: bytes, *, drain: bool = False, close: bool = False) -> ChannelFrame:
    future = asyncio.get_running_loop().create_future() if drain else None
    return ChannelFrame(payload=payload, should_close=close, drain_future=future)


def _queue(*frames: ChannelFrame) -> asyncio.Queue[ChannelFrame]:
    queue: asyncio.Queue[ChannelFrame] = asyncio.Queue()
    for frame in frames:
        queue.put_nowait(frame)
    return queue


async def test_waiting_frames_join_in_order() -> None:
    queue = _queue(_frame(b"b"), _frame(b"c"))
    batch = batch_waiting(_frame(b"a"), queue)
    assert batch.payload == b"abc"
    assert batch.drain_future is None and not batch.should_close
    assert queue.empty()


async def test_a_frame_with_a_waiter_ends_the_batch_and_keeps_its_future() -> None:
    waited = _frame(b"b", drain=True)
    queue = _queue(waited, _frame(b"c"))
    batch = batch_waiting(_frame(b"a"), queue)
    assert batch.payload == b"ab"
    assert batch.drain_future is waited.drain_future
    assert batch.should_drain
    assert queue.qsize() == 1  # "c" goes in the next write


async def test_a_closing_frame_ends_the_batch() -> None:
    queue = _queue(_frame(b"close", close=True), _frame(b"late"))
    batch = batch_waiting(_frame(b"a"), queue)
    assert batch.payload == b"aclose" and batch.should_close
    assert queue.qsize() == 1


async def test_nothing_waiting_returns_the_frame_itself() -> None:
    first = _frame(b"a")
    assert batch_waiting(first, _queue()) is first


async def test_generator_batches_what_is_queued_but_not_past_a_waited_frame() -> None:
    waited = _frame(b"w", drain=True)
    queue = _queue(_frame(b"1"), _frame(b"2"), waited, _frame(b"3"))
    frames = BatchingFrameGenerator(queue)
    first = await anext(frames)
    assert first.payload == b"12w" and first.drain_future is waited.drain_future
    second = await anext(frames)
    assert second.payload == b"3"
    # Every frame taken was marked done, or join() would wait (aiormq joins on close).
    await asyncio.wait_for(queue.join(), 1.0)


async def test_generator_passes_a_leading_waited_frame_alone() -> None:
    waited = _frame(b"w", drain=True)
    frames = BatchingFrameGenerator(_queue(waited, _frame(b"x")))
    assert await anext(frames) is waited


def test_install_replaces_the_generator_aiormq_writers_use() -> None:
    frame_batching.install()
    assert aiormq.connection.FrameGenerator is BatchingFrameGenerator
