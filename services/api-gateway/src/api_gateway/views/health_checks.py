"""/v1.0/providers/{id}/health_checks: the provider's probe history, owned by health-checker."""

from __future__ import annotations

from aiohttp import web

from api_gateway.accounts import Identity
from api_gateway.http import page_query, path_id, reply
from api_gateway.keys import HEALTH_CHECKER, PROVIDER_MANAGER


async def list_health_checks(request: web.Request, _: Identity) -> web.StreamResponse:
    provider_id = path_id(request)
    page = page_query(request)
    # provider-manager decides whether the provider exists (404 otherwise); the
    # health-checker only knows what it has probed.
    await request.app[PROVIDER_MANAGER].get_provider(provider_id)
    return reply(await request.app[HEALTH_CHECKER].health_checks(provider_id, page))
