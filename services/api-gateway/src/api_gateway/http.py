"""Small helpers views share: reading JSON bodies, path ids, replying."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from shared.errors import AppError, ErrorStatus
from shared.pagination import parse_page_size, parse_page_token
from shared.requests import optional_uuid, parse_id

from api_gateway.json_limits import parse_json


async def read_json(request: web.Request, max_bytes: int | None = None) -> dict[str, Any]:
    """The JSON object body every endpoint that takes one requires; 400 when it is missing,
    not JSON, not an object, nests deeper than MAX_JSON_DEPTH, or is longer than `max_bytes`
    (a route's own, tighter cap than the global 413 one)."""
    raw = await request.read()  # over client_max_size -> 413 from aiohttp
    if not raw:
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT, "MISSING_BODY", "a JSON object body is required"
        )
    if max_bytes is not None and len(raw) > max_bytes:
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT,
            "BODY_TOO_LONG",
            f"the body is longer than {max_bytes} bytes",
        )
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT, "INVALID_JSON_BODY", "the body must be a JSON object"
        )
    return body


def path_id(request: web.Request, name: str = "id") -> str:
    return parse_id(request.match_info[name], name)


def optional_uuid_query(request: web.Request, name: str) -> str | None:
    return optional_uuid(request.query.get(name, ""), name)


def page_query(request: web.Request) -> dict[str, str]:
    """Checked page_size and page_token, ready to forward in an RPC query string."""
    size = parse_page_size(request.query.get("page_size"))
    token = request.query.get("page_token", "")
    parse_page_token(token)
    return {"page_size": str(size), "page_token": token}


def reply(data: Any, status: int = 200) -> web.Response:
    # orjson straight to bytes: json.dumps then encode was a visible share of a GET's CPU.
    return web.Response(body=encode_json(data), status=status, content_type="application/json")


def encode_json(data: Any) -> bytes:
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)
