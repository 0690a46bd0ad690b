"""/v1.0/routes: checked here, owned by provider-manager."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from shared.contracts.routes import RouteCreate, RouteUpdate
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import optional_uuid_query, page_query, path_id, read_json, reply
from api_gateway.keys import RPC, SETTINGS

SERVICE = "provider-manager"


def _queue(request: web.Request) -> str:
    return request.app[SETTINGS].request_queue(SERVICE)


async def list_routes(request: web.Request, _: Identity) -> web.StreamResponse:
    params = page_query(request)
    if customer_id := optional_uuid_query(request, "customer_id"):
        params["customer_id"] = customer_id
    uri = f"/v1/routes?{urlencode(params)}"
    return reply(await request.app[RPC].request(_queue(request), "GET", uri))


async def create_route(request: web.Request, _: Identity) -> web.StreamResponse:
    # ProjectSuperAdmin creates routes for any customer: customer_id comes from the body,
    # and provider-manager gives an omitted one to the default routes' customer.
    body = await read_json(request)
    parse_body(RouteCreate, body)  # fail fast; provider-manager applies the same rules
    return reply(await request.app[RPC].request(_queue(request), "POST", "/v1/routes", body))


async def get_route(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/routes/{path_id(request)}"
    return reply(await request.app[RPC].request(_queue(request), "GET", uri))


async def update_route(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/routes/{path_id(request)}"
    body = await read_json(request)
    parse_body(RouteUpdate, body)
    return reply(await request.app[RPC].request(_queue(request), "PUT", uri, body))


async def delete_route(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/routes/{path_id(request)}"
    return reply(await request.app[RPC].request(_queue(request), "DELETE", uri))
