"""/v1.0/providers/{id}/call_metrics: ASR, post-dial delay and failure codes over a window,
computed by call-manager from its stored calls."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from shared.contracts.call_metrics import metrics_window

from api_gateway.accounts import Identity
from api_gateway.http import path_id, reply
from api_gateway.keys import RPC, SETTINGS

CALL_MANAGER = "call-manager"


async def get_call_metrics(request: web.Request, _: Identity) -> web.StreamResponse:
    provider_id = path_id(request)
    window = metrics_window(request.query.get("window_seconds"))
    settings = request.app[SETTINGS]
    query = urlencode({"window_seconds": window})
    data = await request.app[RPC].request(
        settings.request_queue(CALL_MANAGER),
        "GET",
        f"/v1/providers/{provider_id}/call_metrics?{query}",
    )
    return reply(data)
