"""The console feed on a real broker: its queue is bound to the exchanges only while
someone watches, and a watcher gets every event published after `subscribed()`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aio_pika
import aiormq.exceptions
import pytest
from aio_pika.abc import AbstractExchange, AbstractRobustConnection
from api_gateway.console.feed import EventFeed

from tests.support.polling import eventually


async def _routable(exchange: AbstractExchange) -> bool:
    """Whether a mandatory publish to `exchange` reaches any queue (the broker returns it
    otherwise); the probe event is of a type the feed ignores."""
    try:
        await exchange.publish(
            aio_pika.Message(b"{}", type="probe_only"), routing_key="", mandatory=True
        )
    except aiormq.exceptions.PublishError:
        return False
    return True


@pytest.fixture
async def watched(
    broker: AbstractRobustConnection,
) -> AsyncIterator[tuple[EventFeed, AbstractExchange]]:
    """A started feed on an exchange of this test's own, and that exchange on a channel
    whose mandatory publishes raise when nothing is bound."""
    name = f"test-feed.{uuid.uuid4().hex}.event"
    channel = await broker.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.FANOUT, durable=True)
    feed = EventFeed()
    await feed.start(broker, [name])
    try:
        yield feed, exchange
    finally:
        await feed.stop()
        await channel.exchange_delete(name)
        await channel.close()


async def test_bound_only_while_watched(watched: tuple[EventFeed, AbstractExchange]) -> None:
    feed, exchange = watched
    assert not await _routable(exchange), "an unwatched feed should receive nothing"

    watcher = feed.watch()
    await feed.subscribed()
    await exchange.publish(
        aio_pika.Message(b'{"id":"1","type":"provider_created"}', type="provider_created"),
        routing_key="",
    )
    item = await asyncio.wait_for(watcher.queue.get(), 5.0)
    assert item is not None and item.type == "provider_created"
    assert item.data == '{"id":"1","type":"provider_created"}'

    # A second watcher shares the binding; the first leaving keeps it.
    other = feed.watch()
    await feed.subscribed()
    feed.unwatch(watcher)
    await feed.settled()
    assert await _routable(exchange)

    feed.unwatch(other)

    async def unbound() -> bool:
        return not await _routable(exchange)

    await eventually(unbound, 5.0, message="unbound after the last watcher left")

    # Back again: bound before subscribed() returns.
    again = feed.watch()
    await feed.subscribed()
    assert await _routable(exchange)
    feed.unwatch(again)


async def test_watchers_coming_and_going_at_once_leave_the_binding_right(
    watched: tuple[EventFeed, AbstractExchange],
) -> None:
    feed, exchange = watched
    opened = [feed.watch() for _ in range(3)]
    await asyncio.gather(*(feed.subscribed() for _ in opened))
    for watcher in opened[:-1]:
        feed.unwatch(watcher)
    last = opened[-1]
    await feed.settled()
    assert await _routable(exchange), "one watcher left: still bound"
    feed.unwatch(last)
    fresh = feed.watch()  # arrives while the unbind may still be running
    await feed.subscribed()
    assert await _routable(exchange), "the newest watcher must end up bound"
    feed.unwatch(fresh)
