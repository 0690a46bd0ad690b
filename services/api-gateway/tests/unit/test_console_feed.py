"""The console's event fan-out and board merge, without a broker."""

from __future__ import annotations

import asyncio

from api_gateway.console.board import merge
from api_gateway.console.feed import RESYNC, WATCHER_BUFFER, EventFeed, FeedItem
from api_gateway.console.stream import _frame


async def test_every_watcher_gets_each_event_in_order() -> None:
    feed = EventFeed()
    first, second = feed.watch(), feed.watch()
    for n in range(3):
        feed.publish(FeedItem("provider_updated", f'{{"n":{n}}}'))
    for watcher in (first, second):
        got = [watcher.queue.get_nowait() for _ in range(3)]
        assert [item.data for item in got if item] == ['{"n":0}', '{"n":1}', '{"n":2}']


async def test_a_watcher_that_falls_behind_is_told_to_resync_and_dropped() -> None:
    feed = EventFeed()
    slow, fresh = feed.watch(), feed.watch()
    for n in range(WATCHER_BUFFER + 1):
        feed.publish(FeedItem("provider_updated", str(n)))
        if n % 100 == 0:
            while not fresh.queue.empty():
                fresh.queue.get_nowait()
    assert slow.dropped and not fresh.dropped
    resync = slow.queue.get_nowait()
    assert resync is not None and resync.type == RESYNC
    assert slow.queue.get_nowait() is None  # then its stream ends
    # Later events only reach the watcher still connected.
    feed.publish(FeedItem("provider_updated", "later"))
    assert slow.queue.empty()


async def test_closing_ends_every_stream_and_refuses_new_ones() -> None:
    feed = EventFeed()
    watcher = feed.watch()
    await feed.close_watchers()
    assert await asyncio.wait_for(watcher.queue.get(), 1) is None
    late = feed.watch()
    assert late.queue.get_nowait() is None


def test_frames_are_one_data_line_each() -> None:
    assert _frame(FeedItem("call_hangup", '{"type":"call_hangup"}')) == (
        b'data: {"type":"call_hangup"}\n\n'
    )
    assert _frame(FeedItem(RESYNC, "{}")).startswith(b"event: resync\n")


def test_board_merges_probe_state_and_leaves_unprobed_empty() -> None:
    providers = [
        {"id": "a", "name": "A", "hostname": "h1", "health_status": "healthy"},
        {"id": "b", "name": "B", "hostname": "h2", "health_status": "unknown"},
    ]
    probes = [
        {
            "provider_id": "a",
            "status": "healthy",
            "checked_at": "2026-01-01 00:00:00.000000",
            "consecutive_failures": 0,
            "rtt_ms": 1.5,
        }
    ]
    rows = {row["id"]: row for row in merge(providers, probes)}
    assert rows["a"]["rtt_ms"] == 1.5 and rows["a"]["consecutive_failures"] == 0
    assert rows["b"]["rtt_ms"] is None and rows["b"]["consecutive_failures"] is None
    assert rows["b"]["health_status"] == "unknown"
