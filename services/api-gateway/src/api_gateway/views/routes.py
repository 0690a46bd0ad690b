"""/v1.0/routes: checked here, owned by provider-manager."""

from __future__ import annotations

from aiohttp import web
from shared.contracts.routes import RouteCreate, RouteUpdate
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import optional_uuid_query, page_query, path_id, read_json, reply
from api_gateway.keys import PROVIDER_MANAGER


async def list_routes(request: web.Request, _: Identity) -> web.StreamResponse:
    page = page_query(request)
    customer_id = optional_uuid_query(request, "customer_id")
    client = request.app[PROVIDER_MANAGER]
    return reply(await client.list_routes(page["page_size"], page["page_token"], customer_id))


async def create_route(request: web.Request, _: Identity) -> web.StreamResponse:
    # ProjectSuperAdmin creates routes for any customer: customer_id comes from the body,
    # and provider-manager gives an omitted one to the default routes' customer.
    body = await read_json(request)
    parse_body(RouteCreate, body)  # fail fast; provider-manager applies the same rules
    return reply(await request.app[PROVIDER_MANAGER].create_route(body))


async def get_route(request: web.Request, _: Identity) -> web.StreamResponse:
    return reply(await request.app[PROVIDER_MANAGER].get_route(path_id(request)))


async def update_route(request: web.Request, _: Identity) -> web.StreamResponse:
    route_id = path_id(request)
    body = await read_json(request)
    parse_body(RouteUpdate, body)
    return reply(await request.app[PROVIDER_MANAGER].update_route(route_id, body))


async def delete_route(request: web.Request, _: Identity) -> web.StreamResponse:
    return reply(await request.app[PROVIDER_MANAGER].delete_route(path_id(request)))
