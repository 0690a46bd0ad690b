"""/v1.0/caller_ids: verified caller IDs per customer (ProjectSuperAdmin), owned by
call-manager, which checks every POST /v1.0/calls source against them."""

from __future__ import annotations

from aiohttp import web
from shared.contracts.caller_ids import CallerIdCreate
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import optional_uuid_query, path_id, read_json, reply
from api_gateway.keys import CALL_MANAGER


async def list_caller_ids(request: web.Request, _: Identity) -> web.StreamResponse:
    customer_id = optional_uuid_query(request, "customer_id") or None
    return reply(await request.app[CALL_MANAGER].list_caller_ids(customer_id))


async def create_caller_id(request: web.Request, _: Identity) -> web.StreamResponse:
    body = parse_body(CallerIdCreate, await read_json(request))  # call-manager checks again
    return reply(await request.app[CALL_MANAGER].create_caller_id(body.model_dump(mode="json")))


async def get_caller_id(request: web.Request, _: Identity) -> web.StreamResponse:
    return reply(await request.app[CALL_MANAGER].get_caller_id(path_id(request)))


async def delete_caller_id(request: web.Request, _: Identity) -> web.StreamResponse:
    return reply(await request.app[CALL_MANAGER].delete_caller_id(path_id(request)))
