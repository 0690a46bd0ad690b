"""/v1.0/calls and /v1.0/groupcalls: place, read and hang up, owned by call-manager.

POST /v1.0/calls places calls for the caller's own customer (never a customer_id from the
body); call-manager picks each number's providers by its dial routes. An Idempotency-Key
header makes a retried POST return the first result.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from shared.contracts.calls import CallCreate
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import page_query, path_id, read_json, reply
from api_gateway.keys import RPC, SETTINGS
from api_gateway.views.call_redaction import redact_calls
from api_gateway.views.call_scope import scope_query
from api_gateway.views.providercalls import CREATE_TIMEOUT, idempotency_key

SERVICE = "call-manager"
# A hangup waits (briefly) for call-manager to have started the CANCEL or BYE.
HANGUP_TIMEOUT = 8.0


def _queue(request: web.Request) -> str:
    return request.app[SETTINGS].request_queue(SERVICE)


def _uri(path: str, identity: Identity, **params: str) -> str:
    query = {**params, **scope_query(identity)}
    return f"{path}?{urlencode(query)}" if query else path


async def _list(request: web.Request, identity: Identity, path: str) -> web.StreamResponse:
    uri = _uri(path, identity, **page_query(request))
    found = await request.app[RPC].request(_queue(request), "GET", uri)
    return reply(redact_calls(identity, found, "list"))


async def _get(request: web.Request, identity: Identity, path: str) -> web.StreamResponse:
    uri = _uri(f"{path}/{path_id(request)}", identity)
    found = await request.app[RPC].request(_queue(request), "GET", uri)
    return reply(redact_calls(identity, found, "call"))


async def _hangup(request: web.Request, identity: Identity, path: str) -> web.StreamResponse:
    uri = _uri(f"{path}/{path_id(request)}/hangup", identity)
    result = await request.app[RPC].request(_queue(request), "POST", uri, timeout=HANGUP_TIMEOUT)
    return reply(redact_calls(identity, result, "call"))


async def create_calls(request: web.Request, identity: Identity) -> web.StreamResponse:
    key = idempotency_key(request)
    parsed = parse_body(CallCreate, await read_json(request))  # call-manager checks again
    data = {
        **parsed.model_dump(mode="json"),
        "customer_id": identity.customer_id,
        "idempotency_key": key,
    }
    result = await request.app[RPC].request(
        _queue(request), "POST", "/v1/calls", data, timeout=CREATE_TIMEOUT
    )
    return reply(redact_calls(identity, result, "created"))


async def list_calls(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _list(request, identity, "/v1/calls")


async def get_call(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _get(request, identity, "/v1/calls")


async def hangup_call(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _hangup(request, identity, "/v1/calls")


async def list_groupcalls(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _list(request, identity, "/v1/groupcalls")


async def get_groupcall(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _get(request, identity, "/v1/groupcalls")


async def hangup_groupcall(request: web.Request, identity: Identity) -> web.StreamResponse:
    return await _hangup(request, identity, "/v1/groupcalls")
