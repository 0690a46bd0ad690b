"""/v1.0/providercalls: checked here, owned by call-manager.

customer_id always comes from the caller's identity, never from the body; an
Idempotency-Key header makes a retried POST return the first result.
"""

from __future__ import annotations

from aiohttp import web
from shared.contracts.calls import ProviderCallCreate
from shared.contracts.validation import parse_body
from shared.errors import invalid_argument

from api_gateway.accounts import Identity
from api_gateway.http import optional_uuid_query, page_query, path_id, read_json, reply
from api_gateway.keys import CALL_MANAGER

MAX_KEY = 255


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
    page = page_query(request)
    provider_id = optional_uuid_query(request, "provider_id") or None
    return reply(
        await request.app[CALL_MANAGER].list_providercalls(
            page["page_size"], page["page_token"], provider_id
        )
    )


async def create_providercall(request: web.Request, identity: Identity) -> web.StreamResponse:
    key = idempotency_key(request)
    body = await read_json(request)
    parsed = parse_body(ProviderCallCreate, body)  # fail fast; call-manager checks again
    data = {
        **parsed.model_dump(mode="json"),
        "customer_id": identity.customer_id,
        "idempotency_key": key,
    }
    return reply(await request.app[CALL_MANAGER].create_providercall(data))


async def get_providercall(request: web.Request, _: Identity) -> web.StreamResponse:
    return reply(await request.app[CALL_MANAGER].get_providercall(path_id(request)))


async def delete_providercall(request: web.Request, _: Identity) -> web.StreamResponse:
    return reply(await request.app[CALL_MANAGER].delete_providercall(path_id(request)))
