"""A subscriber that applies each event once: the event id is recorded in the same
transaction as the handler's changes, so a redelivered event is acknowledged and skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events.envelope import Event
from shared.metrics import EVENTS_CONSUMED

log = structlog.get_logger("events.subscriber")

EventHandler = Callable[[Event, AsyncSession], Awaitable[None]]


class EventSubscriber:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        queue_name: str,
        exchanges: Sequence[str],
        handler: EventHandler,
        sessions: async_sessionmaker[AsyncSession],
        processed_table: Table,
        prefetch: int = 32,
        after_commit: Callable[[Event], None] | None = None,
        event_types: Collection[str] | None = None,
    ) -> None:
        """`event_types`: apply only these; others are acked unread (fanout exchanges carry
        every type a service publishes, and recording each in processed_events costs a
        transaction per message)."""
        self._connection = connection
        self.queue_name = queue_name
        self._exchanges = exchanges
        self._handler = handler
        self._sessions = sessions
        self._processed = processed_table
        self._prefetch = prefetch
        self._after_commit = after_commit
        self._event_types = frozenset(event_types) if event_types is not None else None
        self._channel: AbstractChannel | None = None

    async def start(self) -> None:
        self._channel = await self._connection.channel()
        await self._channel.set_qos(prefetch_count=self._prefetch)
        queue = await self._channel.declare_queue(self.queue_name, durable=True)
        for name in self._exchanges:
            exchange = await self._channel.declare_exchange(
                name, aio_pika.ExchangeType.FANOUT, durable=True
            )
            await queue.bind(exchange)
        await queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    def _skipped(self, event_type: str | None) -> bool:
        return (
            self._event_types is not None
            and event_type is not None
            and event_type not in self._event_types
        )

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        structlog.contextvars.clear_contextvars()
        # The relay sets the AMQP type property, so unwanted events skip JSON parsing too.
        if self._skipped(message.type):
            await message.ack()
            return
        try:
            event = Event.model_validate_json(message.body)
        except Exception:
            log.warning("event_malformed_dropped", body_size=len(message.body))
            await message.reject(requeue=False)
            return
        if self._skipped(event.type):
            await message.ack()
            return
        structlog.contextvars.bind_contextvars(request_id=event.request_id, event_type=event.type)
        try:
            async with self._sessions() as session, session.begin():
                first_time = (
                    await session.execute(
                        insert(self._processed)
                        .values(id=event.id)
                        .on_conflict_do_nothing()
                        .returning(self._processed.c.id)
                    )
                ).first()
                if first_time is not None:
                    await self._handler(event, session)
            EVENTS_CONSUMED.labels(
                self.queue_name, event.type, "applied" if first_time else "duplicate"
            ).inc()
            if first_time is not None and self._after_commit is not None:
                self._after_commit(event)
            await message.ack()
        except Exception:
            EVENTS_CONSUMED.labels(self.queue_name, event.type, "failed").inc()
            log.exception("event_handler_failed", event_id=event.id)
            # Back off before the redelivery so a failing dependency is not hammered.
            await asyncio.sleep(1.0)
            await message.nack(requeue=True)
