"""The console's routes on the gateway application."""

from __future__ import annotations

from aiohttp import web

from api_gateway.console import assets, board, session
from api_gateway.console.feed import EventFeed
from api_gateway.console.stream import FEED, events


def add_console(app: web.Application, feed: EventFeed) -> None:
    app[FEED] = feed
    app.on_shutdown.append(feed.close_watchers)
    app.router.add_get("/console", assets.redirect_to_index)
    app.router.add_get("/console/", assets.index)
    app.router.add_get("/console/assets/{path:.+}", assets.asset)
    app.router.add_post("/console/api/session", session.sign_in)
    app.router.add_get("/console/api/session", session.whoami)
    app.router.add_delete("/console/api/session", session.sign_out)
    app.router.add_get("/console/api/board", board.board)
    app.router.add_get("/console/api/events", events)
