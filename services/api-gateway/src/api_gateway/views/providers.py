"""/v1.0/providers: checked here, owned by provider-manager."""

from __future__ import annotations

from aiohttp import web
from shared.contracts.providers import ProviderCreate, ProviderUpdate
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import page_query, path_id, read_json, reply
from api_gateway.keys import PROVIDER_MANAGER


async def list_providers(request: web.Request, _: Identity) -> web.StreamResponse:
    page = page_query(request)
    client = request.app[PROVIDER_MANAGER]
    return reply(await client.list_providers(page["page_size"], page["page_token"]))


async def create_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    body = await read_json(request)
    parse_body(ProviderCreate, body)  # fail fast; provider-manager applies the same rules
    return reply(await request.app[PROVIDER_MANAGER].create_provider(body))


async def get_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    return reply(await request.app[PROVIDER_MANAGER].get_provider(path_id(request)))


async def update_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    provider_id = path_id(request)
    body = await read_json(request)
    parse_body(ProviderUpdate, body)
    return reply(await request.app[PROVIDER_MANAGER].update_provider(provider_id, body))


async def delete_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    return reply(await request.app[PROVIDER_MANAGER].delete_provider(path_id(request)))
