"""Reads by key that arrive together, answered by one query.

Under load a service's consumer hands it many requests per turn of the loop (the broker
delivers up to the prefetch count at once), and a read by id each cost a pool checkout, a
round trip and a statement of its own. The batcher gathers the keys asked for and fetches
them with one `fetch_many`: on the next turn of the loop when no fetch is running, else
when the running one ends (at most `max_in_flight` at once), so batches grow with the load
and the fixed cost of a query is paid once per batch (the DataLoader pattern). A lone
request waits one turn of the loop, microseconds.

Each caller has its own future, so a caller that gives up (a deadline) cancels only its
own wait; a failed fetch fails every caller of that batch with the same error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

from shared.metrics import READ_BATCH_KEYS

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

FetchMany = Callable[[list[K]], Awaitable[Mapping[K, V]]]


class ReadBatcher(Generic[K, V]):
    """`max_in_flight` fetches at most run at once; keys asked for meanwhile wait for the
    next one, so under load a fetch serves what arrived during the one before (bigger
    batches, fewer queries) instead of each turn's few keys taking a connection of their
    own."""

    def __init__(self, fetch_many: FetchMany[K, V], name: str, max_in_flight: int = 1) -> None:
        self._fetch_many = fetch_many
        self._sizes = READ_BATCH_KEYS.labels(name)
        self._max_in_flight = max_in_flight
        self._waiting: list[tuple[K, asyncio.Future[V | None]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self.batches = 0  # fetches made, for tests and metrics

    async def get(self, key: K) -> V | None:
        """The value for `key`, or None when fetch_many found none."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.append((key, future))
        self._schedule(loop)
        return await future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._scheduled and len(self._running) < self._max_in_flight:
            self._scheduled = True
            loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if not self._waiting or len(self._running) >= self._max_in_flight:
            return
        batch, self._waiting = self._waiting, []
        task = asyncio.get_running_loop().create_task(self._answer(batch))
        # Held until done: the loop keeps only a weak reference to a task.
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._waiting:
            self._schedule(task.get_loop())

    async def _answer(self, batch: list[tuple[K, asyncio.Future[V | None]]]) -> None:
        keys = list(dict.fromkeys(key for key, future in batch if not future.done()))
        if not keys:
            return
        self.batches += 1
        self._sizes.observe(len(keys))
        try:
            found = await self._fetch_many(keys)
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise  # cancelled (the service is stopping): the callers were told above
            return
        for key, future in batch:
            if not future.done():
                future.set_result(found.get(key))
