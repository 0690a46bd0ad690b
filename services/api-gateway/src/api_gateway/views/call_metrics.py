"""/v1.0/providers/{id}/call_metrics: ASR, post-dial delay and failure codes over a window,
computed by call-manager from its stored calls."""

from __future__ import annotations

from aiohttp import web
from shared.contracts.call_metrics import metrics_window

from api_gateway.accounts import Identity
from api_gateway.http import path_id, reply
from api_gateway.keys import CALL_MANAGER


async def get_call_metrics(request: web.Request, _: Identity) -> web.StreamResponse:
    provider_id = path_id(request)
    window = metrics_window(request.query.get("window_seconds"))
    return reply(await request.app[CALL_MANAGER].call_metrics(provider_id, window))
