"""Capture the events a service publishes, through a private queue bound to its exchange."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from tests.support.polling import eventually


class EventCollector:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._channel: AbstractChannel | None = None

    async def start(self, connection: AbstractRobustConnection, *exchanges: str) -> None:
        self._channel = await connection.channel()
        queue = await self._channel.declare_queue(
            f"test-events.{uuid.uuid4().hex}", exclusive=True, auto_delete=True
        )
        for name in exchanges:
            exchange = await self._channel.declare_exchange(
                name, aio_pika.ExchangeType.FANOUT, durable=True
            )
            await queue.bind(exchange)
        await queue.consume(self._on_message, no_ack=True)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.events.append(json.loads(message.body))

    async def stop(self) -> None:
        if self._channel is not None:
            await self._channel.close()

    def of_type(self, event_type: str, **data_match: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e["type"] == event_type
            and all((e.get("data") or {}).get(k) == v for k, v in data_match.items())
        ]

    async def wait_for(
        self, event_type: str, count: int = 1, timeout: float = 10.0, **data_match: Any
    ) -> list[dict[str, Any]]:
        async def probe() -> list[dict[str, Any]] | None:
            found = self.of_type(event_type, **data_match)
            return found if len(found) >= count else None

        return await eventually(probe, timeout, message=f"{count} x {event_type} {data_match}")


@asynccontextmanager
async def collecting(
    connection: AbstractRobustConnection, *exchanges: str
) -> AsyncIterator[EventCollector]:
    """An EventCollector on `exchanges` for the block (a fixture's body)."""
    collector = EventCollector()
    await collector.start(connection, *exchanges)
    try:
        yield collector
    finally:
        await collector.stop()
