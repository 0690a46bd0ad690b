"""/v1.0/providercalls: checked here, owned by call-manager.

customer_id always comes from the caller's identity, never from the body; an
Idempotency-Key header makes a retried POST return the first result.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from shared.contracts.calls import ProviderCallCreate
from shared.contracts.validation import parse_body
from shared.errors import invalid_argument

from api_gateway.accounts import Identity
from api_gateway.http import optional_uuid_query, page_query, path_id, read_json, reply
from api_gateway.keys import RPC, SETTINGS

SERVICE = "call-manager"
MAX_KEY = 255
# Creating resolves the provider and group destinations over RPC before answering.
CREATE_TIMEOUT = 15.0


def _queue(request: web.Request) -> str:
    return request.app[SETTINGS].request_queue(SERVICE)


def idempotency_key(request: web.Request) -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    if not 1 <= len(raw) <= MAX_KEY or not all(33 <= ord(ch) <= 126 for ch in raw):
        raise invalid_argument(
            "Idempotency-Key", f"must be 1 to {MAX_KEY} printable ASCII characters"
        )
    return raw


async def list_providercalls(request: web.Request, _: Identity) -> web.StreamResponse:
    params = page_query(request)
    provider_id = optional_uuid_query(request, "provider_id")
    if provider_id:
        params["provider_id"] = provider_id
    uri = f"/v1/providercalls?{urlencode(params)}"
    return reply(await request.app[RPC].request(_queue(request), "GET", uri))


async def create_providercall(request: web.Request, identity: Identity) -> web.StreamResponse:
    key = idempotency_key(request)
    body = await read_json(request)
    parsed = parse_body(ProviderCallCreate, body)  # fail fast; call-manager checks again
    data = {
        **parsed.model_dump(mode="json"),
        "customer_id": identity.customer_id,
        "idempotency_key": key,
    }
    result = await request.app[RPC].request(
        _queue(request), "POST", "/v1/providercalls", data, timeout=CREATE_TIMEOUT
    )
    return reply(result)


async def get_providercall(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/providercalls/{path_id(request)}"
    return reply(await request.app[RPC].request(_queue(request), "GET", uri))


async def delete_providercall(request: web.Request, _: Identity) -> web.StreamResponse:
    uri = f"/v1/providercalls/{path_id(request)}"
    return reply(await request.app[RPC].request(_queue(request), "DELETE", uri))
