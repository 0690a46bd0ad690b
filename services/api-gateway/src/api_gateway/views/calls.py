"""/v1.0/calls and /v1.0/groupcalls: place, read and hang up, owned by call-manager.

POST /v1.0/calls places calls for the caller's own customer (never a customer_id from the
body); call-manager picks each number's providers by its dial routes. An Idempotency-Key
header makes a retried POST return the first result.
"""

from __future__ import annotations

from aiohttp import web
from shared.clients.call_manager import CallKind
from shared.contracts.calls import CallCreate
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import page_query, path_id, read_json, reply
from api_gateway.keys import CALL_MANAGER
from api_gateway.views.call_redaction import redact_calls
from api_gateway.views.call_scope import customer_scope
from api_gateway.views.providercalls import idempotency_key


async def _list(request: web.Request, identity: Identity, kind: CallKind) -> web.StreamResponse:
    page = page_query(request)
    found = await request.app[CALL_MANAGER].list_calls(
        kind, page["page_size"], page["page_token"], customer_scope(identity)
    )
    return reply(redact_calls(identity, found, "list"))


async def _get(request: web.Request, identity: Identity, kind: CallKind) -> web.StreamResponse:
    client = request.app[CALL_MANAGER]
    found = await client.get_call(kind, path_id(request), customer_scope(identity))
    return reply(redact_calls(identity, found, "call"))


async def _hangup(request: web.Request, identity: Identity, kind: CallKind) -> web.StreamResponse:
    client = request.app[CALL_MANAGER]
    result = await client.hangup_call(kind, path_id(request), customer_scope(identity))
    return reply(redact_calls(identity, result, "call"))


async def create_calls(request: web.Request, identity: Identity) -> web.StreamResponse:
    key = idempotency_key(request)
    parsed = parse_body(CallCreate, await read_json(request))  # call-manager checks again
    data = {
        **parsed.model_dump(mode="json"),
        "customer_id": identity.customer_id,
        "idempotency_key": key,
    }
    result = await request.app[CALL_MANAGER].create_calls(data)
    return reply(redact_calls(identity, result, "created"))


async def list_calls(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _list(request, identity, "calls")


async def get_call(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _get(request, identity, "calls")


async def hangup_call(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _hangup(request, identity, "calls")


async def list_groupcalls(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _list(request, identity, "groupcalls")


async def get_groupcall(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _get(request, identity, "groupcalls")


async def hangup_groupcall(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _hangup(request, identity, "groupcalls")
