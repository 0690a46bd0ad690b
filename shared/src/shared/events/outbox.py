"""Transactional outbox: an event is a row written in the same transaction as the change
it describes, so it exists exactly when the change does. The relay publishes rows with
publisher confirms and deletes them only after the broker acknowledged them, so a broker
outage delays events but loses none (delivery is at least once; consumers dedupe on id).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, cast

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from pamqp.commands import Basic
from pydantic_core import to_jsonable_python
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    MetaData,
    String,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.contracts.events import CATALOG
from shared.ids import random_uuid
from shared.logging import current_request_id
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_PENDING
from shared.timefmt import render, utcnow

log = structlog.get_logger("outbox")

# Kept in the session's `info` by add_events and after_commit, read by `publishing`.
_QUEUED = "outbox_queued"
_AFTER_COMMIT = "outbox_after_commit"


def outbox_table(metadata: MetaData, schema: str) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(), primary_key=True),
        Column("id", UUID(as_uuid=False), nullable=False, unique=True),
        Column("type", String(128), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("tm_create", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema=schema,
    )


def processed_events_table(metadata: MetaData, schema: str) -> Table:
    """Event ids a subscriber has applied, so a redelivered event is applied once."""
    return Table(
        "processed_events",
        metadata,
        Column("id", UUID(as_uuid=False), primary_key=True),
        Column("tm_create", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema=schema,
    )


async def add_event(
    session: AsyncSession, table: Table, publisher: str, event_type: str, data: Any
) -> None:
    """Queue one event in the caller's transaction; it is published after commit."""
    await add_events(session, table, publisher, [(event_type, data)])


async def add_events(
    session: AsyncSession, table: Table, publisher: str, items: Sequence[tuple[str, Any]]
) -> None:
    """Queue events (type, data) in the caller's transaction with one INSERT.

    Every type must be declared for `publisher` in shared.contracts.events (UnknownEvent
    otherwise), which is what keeps /asyncapi.json complete. The envelope is built as a
    plain dict with the Event model's fields: a create writes hundreds, and building models
    for them showed up in profiles.
    """
    if not items:
        return
    request_id = current_request_id()
    stamp = render(utcnow())
    rows = []
    for event_type, data in items:
        event_id, payload = event_envelope(publisher, event_type, data, request_id, stamp)
        rows.append({"id": event_id, "type": event_type, "payload": payload})
    await session.execute(table.insert(), rows)
    session.info[_QUEUED] = True


def event_envelope(
    publisher: str,
    event_type: str,
    data: Any,
    request_id: str | None = None,
    stamp: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """(event id, envelope) of one event as the outbox stores it; `request_id` and `stamp`
    default to the current request's and now. For a writer that inserts the outbox row in
    a statement of its own (provider-manager's create); others call add_events."""
    CATALOG.check(publisher, event_type)
    event_id = random_uuid()
    payload = {
        "id": event_id,
        "type": event_type,
        "publisher": publisher,
        "timestamp": stamp or render(utcnow()),
        "request_id": request_id if request_id is not None else current_request_id(),
        "data_type": "application/json",
        # UUIDs, datetimes and models as JSON (in Rust: cheap even for hundreds).
        "data": to_jsonable_python(data),
    }
    return event_id, payload


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Run `action` once the `publishing` transaction of `session` has committed, before
    the relay is woken (call-manager starts a plan's calls there, so that their INVITEs go
    out before the events that announce them)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


@contextlib.asynccontextmanager
async def publishing(
    sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None] | None
) -> AsyncIterator[AsyncSession]:
    """One transaction whose events (add_events) are published as soon as it commits.

    `wake` (the relay's OutboxRelay.wake; None where no relay runs) is called only after a
    successful commit and only when the transaction queued events: a rollback publishes
    nothing, and a transaction without events does not send the relay to an empty table.
    """
    async with sessions() as session:
        async with session.begin():
            yield session
        actions: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT, [])
        queued = session.info.pop(_QUEUED, False)
    for action in actions:
        action()
    if queued and wake is not None:
        wake()


class OutboxRelay:
    """Publishes outbox rows to the service's fanout exchange.

    Woken right after a commit that added events (wake()), and polling every
    `poll_interval` as well, to pick up rows left by a crash or by another replica.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        connection: AbstractRobustConnection,
        exchange_name: str,
        poll_interval: float = 1.0,
        batch_size: int = 200,
    ) -> None:
        self._engine = engine
        self._table = table
        self._connection = connection
        self._exchange_name = exchange_name
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._channel: AbstractChannel | None = None
        self._delete_published = delete(table).where(
            table.c.seq == any_(bindparam("seqs", type_=ARRAY(BigInteger)))
        )

    async def start(self) -> None:
        self._channel = await self._connection.channel(publisher_confirms=True)
        await self._channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.FANOUT, durable=True
        )
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay:{self._exchange_name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    def wake(self) -> None:
        self._wakeup.set()

    async def _run(self) -> None:
        backoff = self._poll_interval
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff):
                    await self._wakeup.wait()
            self._wakeup.clear()
            try:
                while await self.publish_batch() == self._batch_size:
                    pass
                backoff = self._poll_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Broker or database down: keep the rows, retry with a capped backoff.
                log.warning("outbox_publish_failed", error=f"{exc.__class__.__name__}: {exc}")
                backoff = min(max(backoff * 2, 0.5), 10.0)

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many rows were published.

        The payload is read as the JSONB's text and sent as it is (no decode and encode again
        per event), on the channel's aiormq underlay: aio-pika's Message objects and the
        stdlib encoder were most of the relay's cost, itself ~15% of call-manager's per call.
        """
        assert self._channel is not None
        table = self._table
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(table.c.seq, table.c.id, table.c.type, table.c.payload.cast(Text))
                    .order_by(table.c.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                OUTBOX_PENDING.labels(table.schema or "").set(0)
                return 0
            underlay = cast(aiormq.Channel, await self._channel.get_underlay_channel())
            # Confirms are awaited together: one round trip per batch, not per event. A nack
            # raises, the transaction rolls back and the rows stay for the next try.
            await asyncio.gather(
                *(
                    underlay.basic_publish(
                        payload.encode(),
                        exchange=self._exchange_name,
                        routing_key="",
                        properties=Basic.Properties(
                            content_type="application/json",
                            message_id=event_id,
                            message_type=event_type,
                            delivery_mode=2,  # persistent
                        ),
                    )
                    for _, event_id, event_type, payload in rows
                )
            )
            await conn.execute(self._delete_published, {"seqs": [r[0] for r in rows]})
        for row in rows:
            EVENTS_PUBLISHED.labels(self._exchange_name, row[2]).inc()
        return len(rows)
