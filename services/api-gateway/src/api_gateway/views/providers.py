"""/v1.0/providers: checked here, owned by provider-manager."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from shared.contracts.providers import ProviderCreate, ProviderUpdate
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import page_query, path_id, read_json, reply
from api_gateway.keys import RPC, SETTINGS

SERVICE = "provider-manager"


def _queue(request: web.Request) -> str:
    return request.app[SETTINGS].request_queue(SERVICE)


async def list_providers(request: web.Request, _: Identity) -> web.StreamResponse:
    query = urlencode(page_query(request))
    data = await request.app[RPC].request(_queue(request), "GET", f"/v1/providers?{query}")
    return reply(data)


async def create_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    body = await read_json(request)
    parse_body(ProviderCreate, body)  # fail fast; provider-manager applies the same rules
    return reply(await request.app[RPC].request(_queue(request), "POST", "/v1/providers", body))


async def get_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/providers/{path_id(request)}"
    return reply(await request.app[RPC].request(_queue(request), "GET", uri))


async def update_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/providers/{path_id(request)}"
    body = await read_json(request)
    parse_body(ProviderUpdate, body)
    return reply(await request.app[RPC].request(_queue(request), "PUT", uri, body))


async def delete_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/providers/{path_id(request)}"
    return reply(await request.app[RPC].request(_queue(request), "DELETE", uri))
