"""/v1.0/providers/{id}/health_checks: the provider's probe history, owned by health-checker."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from api_gateway.accounts import Identity
from api_gateway.http import page_query, path_id, reply
from api_gateway.keys import RPC, SETTINGS

PROVIDER_MANAGER = "provider-manager"
HEALTH_CHECKER = "health-checker"


async def list_health_checks(request: web.Request, _: Identity) -> web.StreamResponse:
    provider_id = path_id(request)
    settings = request.app[SETTINGS]
    rpc = request.app[RPC]
    # provider-manager decides whether the provider exists (404 otherwise); the
    # health-checker only knows what it has probed.
    await rpc.request(
        settings.request_queue(PROVIDER_MANAGER), "GET", f"/v1/providers/{provider_id}"
    )
    query = urlencode(page_query(request))
    data = await rpc.request(
        settings.request_queue(HEALTH_CHECKER),
        "GET",
        f"/v1/providers/{provider_id}/health_checks?{query}",
    )
    return reply(data)
