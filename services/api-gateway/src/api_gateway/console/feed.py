"""Domain events from the services' fanout exchanges, relayed to console watchers.

Each gateway process has its own exclusive, auto-deleted queue: events are a live view, not
work to share between replicas, and nothing is kept for a gateway that is down (a page
reloads its snapshot when its stream starts again). The queue is bound to the exchanges only
while someone watches: an unwatched gateway used to receive and decode every event of the
platform for nobody (a tenth of its CPU per provider POST, and one more delivery per event
for the broker). A stream waits for the binding before it says `ready`, so a page that
loads its snapshot on `ready` misses nothing. Each watcher has a
bounded buffer; a watcher too slow to keep up is told to resync and dropped, so one stuck
browser never holds memory for the others."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import aio_pika
import orjson
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from prometheus_client import Counter, Gauge

log = structlog.get_logger("gateway.console.feed")

EVENTS_RELAYED = Counter(
    "console_events_relayed_total", "Domain events passed to console watchers", ["type"]
)
WATCHERS = Gauge("console_event_watchers", "Console event streams open")
WATCHERS_DROPPED = Counter(
    "console_event_watchers_dropped_total", "Watchers dropped for falling behind"
)

# Event types a console shows; everything else on the exchanges is ignored unread.
RELAYED_PREFIXES = ("provider_", "route_", "call_", "providercall_", "groupcall_")
WATCHER_BUFFER = 2000
RESYNC = "resync"


@dataclass(frozen=True, slots=True)
class FeedItem:
    type: str
    data: str  # the event envelope as JSON text, encoded once for every watcher


@dataclass(eq=False)  # compared and hashed by identity: watchers live in a set
class Watcher:
    queue: asyncio.Queue[FeedItem | None] = field(
        default_factory=lambda: asyncio.Queue(WATCHER_BUFFER)
    )
    dropped: bool = False


class EventFeed:
    """Fan-out of domain events to watchers (SSE streams)."""

    def __init__(self) -> None:
        self._watchers: set[Watcher] = set()
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._exchanges: list[AbstractExchange] = []
        self._bound = False
        # Binds and unbinds in the order watchers come and go, each deciding on the count
        # of watchers when it runs, so the last one leaves the binding as it should be.
        self._binding = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()
        self.closed = False

    async def start(self, connection: AbstractRobustConnection, exchanges: Sequence[str]) -> None:
        self._channel = await connection.channel()
        await self._channel.set_qos(prefetch_count=256)
        self._queue = await self._channel.declare_queue(exclusive=True, auto_delete=True)
        self._exchanges = [
            await self._channel.declare_exchange(name, aio_pika.ExchangeType.FANOUT, durable=True)
            for name in exchanges
        ]
        await self._queue.consume(self._on_message, no_ack=True)
        log.info("console_feed_started", exchanges=list(exchanges))

    async def subscribed(self) -> None:
        """Return once events reach this gateway (the queue is bound while anyone watches)."""
        await self._sync_binding()

    async def _sync_binding(self) -> None:
        async with self._binding:
            wanted = bool(self._watchers) and not self.closed
            if self._queue is None or wanted == self._bound:
                return
            for exchange in self._exchanges:
                if wanted:
                    await self._queue.bind(exchange)
                else:
                    await self._queue.unbind(exchange)
            self._bound = wanted
            log.info("console_feed_bound" if wanted else "console_feed_unbound")

    async def _unbind_if_idle(self) -> None:
        try:
            await self._sync_binding()
        except Exception:  # the broker is away; the next watcher or drop decides again
            log.warning("console_feed_unbind_failed", exc_info=True)

    async def settled(self) -> None:
        """Return once the binding changes already started (an unbind after the last
        watcher left) are done; stop() waits for them before closing the channel."""
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def stop(self) -> None:
        await self.close_watchers()
        await self.settled()
        if self._channel is not None and not self._channel.is_closed:
            with contextlib.suppress(Exception):
                await self._channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        event_type = message.type or ""
        if not self._watchers or not event_type.startswith(RELAYED_PREFIXES):
            return  # routed before the last watcher left, or of a kind no console shows
        try:
            envelope = orjson.loads(message.body)
        except ValueError:
            log.warning("console_feed_bad_event", type=event_type)
            return
        # Re-encoded: one line of JSON whatever the publisher sent (an SSE data line ends
        # at a newline), encoded once for every watcher.
        self.publish(FeedItem(event_type, orjson.dumps(envelope).decode()))

    def publish(self, item: FeedItem) -> None:
        EVENTS_RELAYED.labels(item.type).inc()
        for watcher in list(self._watchers):
            try:
                watcher.queue.put_nowait(item)
            except asyncio.QueueFull:
                self._drop(watcher)

    def _drop(self, watcher: Watcher) -> None:
        """Tell a watcher that fell behind to reload its snapshot, then end its stream."""
        WATCHERS_DROPPED.inc()
        watcher.dropped = True
        self._watchers.discard(watcher)
        while not watcher.queue.empty():
            watcher.queue.get_nowait()
        watcher.queue.put_nowait(FeedItem(RESYNC, '{"reason":"fell behind"}'))
        watcher.queue.put_nowait(None)

    def watch(self) -> Watcher:
        watcher = Watcher()
        if self.closed:
            watcher.queue.put_nowait(None)
            return watcher
        self._watchers.add(watcher)
        WATCHERS.set(len(self._watchers))
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)
        WATCHERS.set(len(self._watchers))
        if not self._watchers and self._bound:
            self._spawn_unbind()

    def _spawn_unbind(self) -> None:
        task = asyncio.get_running_loop().create_task(self._unbind_if_idle())
        # Held until done: the loop keeps only a weak reference to a task.
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def close_watchers(self, _: object = None) -> None:
        """End every stream (the gateway is stopping: open streams would hold it up)."""
        self.closed = True
        for watcher in list(self._watchers):
            with contextlib.suppress(asyncio.QueueFull):
                watcher.queue.put_nowait(None)
        self._watchers.clear()
        WATCHERS.set(0)
