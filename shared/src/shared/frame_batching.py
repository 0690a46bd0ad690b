"""One socket write per event-loop turn for everything a connection queued in that turn.

aiormq's writer task takes frames from the connection's queue one at a time and writes each
with its own `send()`: an RPC reply and its ack were two system calls, and every request the
gateway published in one turn of the loop was one more. On loopback a send also runs the
receiver's TCP input, so these writes were the largest single cost in both the gateway
(15% of its CPU per GET) and provider-manager (9%).

The writer iterates a `FrameGenerator` it looks up in aiormq.connection when a connection
starts; the one installed here hands it, in one frame, every frame already waiting. Frames
stay in order. A frame someone waits on (a drain future, e.g. a publish with wait=True) or
that closes the connection ends the batch, so its waiter still learns when its own bytes,
and everything before them, were handed to the socket.
"""

from __future__ import annotations

import asyncio

import aiormq.connection
from aiormq.abc import ChannelFrame


class BatchingFrameGenerator(aiormq.connection.FrameGenerator):
    async def __anext__(self) -> ChannelFrame:
        frame: ChannelFrame = await super().__anext__()
        if frame.should_close or frame.drain_future is not None:
            return frame
        return batch_waiting(frame, self.queue)


def batch_waiting(first: ChannelFrame, queue: asyncio.Queue[ChannelFrame]) -> ChannelFrame:
    """`first` joined with the frames waiting in `queue`, up to and including the first one
    that needs a drain or closes (it lends the batch its drain future and close flag)."""
    if queue.empty():
        return first
    payloads = [first.payload]
    last = first
    while not queue.empty():
        last = queue.get_nowait()
        queue.task_done()
        payloads.append(last.payload)
        if last.should_close or last.drain_future is not None:
            break
    return ChannelFrame(
        payload=b"".join(payloads),
        should_close=last.should_close,
        drain_future=last.drain_future,
    )


def install() -> None:
    """Connections started after this call batch their writes (idempotent)."""
    aiormq.connection.FrameGenerator = BatchingFrameGenerator  # type: ignore[misc]
