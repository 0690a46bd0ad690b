"""/v1.0/caller_ids: verified caller IDs per customer (ProjectSuperAdmin), owned by
call-manager, which checks every POST /v1.0/calls source against them."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from shared.contracts.caller_ids import CallerIdCreate
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import optional_uuid_query, path_id, read_json, reply
from api_gateway.keys import RPC, SETTINGS

SERVICE = "call-manager"


def _queue(request: web.Request) -> str:
    return request.app[SETTINGS].request_queue(SERVICE)


async def list_caller_ids(request: web.Request, _: Identity) -> web.StreamResponse:
    params = {}
    if customer_id := optional_uuid_query(request, "customer_id"):
        params["customer_id"] = customer_id
    uri = "/v1/caller_ids" + (f"?{urlencode(params)}" if params else "")
    return reply(await request.app[RPC].request(_queue(request), "GET", uri))


async def create_caller_id(request: web.Request, _: Identity) -> web.StreamResponse:
    body = parse_body(CallerIdCreate, await read_json(request))  # call-manager checks again
    data = body.model_dump(mode="json")
    return reply(await request.app[RPC].request(_queue(request), "POST", "/v1/caller_ids", data))


async def get_caller_id(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/caller_ids/{path_id(request)}"
    return reply(await request.app[RPC].request(_queue(request), "GET", uri))


async def delete_caller_id(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/caller_ids/{path_id(request)}"
    return reply(await request.app[RPC].request(_queue(request), "DELETE", uri))
