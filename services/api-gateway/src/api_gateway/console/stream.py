"""GET /console/api/events: the event feed as server-sent events.

Each domain event is one unnamed message whose data is its envelope (the page reads the
type from it); `ready` and `resync` are named control messages. A comment
line every few seconds keeps proxies from closing an idle stream and lets the server notice
a browser that went away."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web
from shared.unavailable import unavailable

from api_gateway.console.feed import RESYNC, EventFeed, FeedItem
from api_gateway.console.security import console_identity, with_security_headers

KEEPALIVE_SECONDS = 15.0
FEED = web.AppKey("console_feed", EventFeed)


def _frame(item: FeedItem) -> bytes:
    # Envelopes are compact JSON (no newlines), so one data line holds each.
    if item.type == RESYNC:
        return f"event: {RESYNC}\ndata: {item.data}\n\n".encode()
    return f"data: {item.data}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    await console_identity(request)
    feed = request.app[FEED]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    with_security_headers(response)
    watcher = feed.watch()
    try:
        # Bound before `ready`: the page loads its snapshot then and must miss no event.
        await feed.subscribed()
    except Exception as exc:
        feed.unwatch(watcher)
        raise unavailable("the event feed") from exc
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\nevent: ready\ndata: {}\n\n")
        while True:
            try:
                item = await asyncio.wait_for(watcher.queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if item is None:
                break
            # Send what else is waiting in the same write: a burst costs one syscall.
            chunk = [_frame(item)]
            while not watcher.queue.empty() and len(chunk) < 256:
                more = watcher.queue.get_nowait()
                if more is None:
                    watcher.queue.put_nowait(None)
                    break
                chunk.append(_frame(more))
            await response.write(b"".join(chunk))
    except ConnectionResetError:
        return response  # the browser went away
    finally:
        feed.unwatch(watcher)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await response.write_eof()
    return response
