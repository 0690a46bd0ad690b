"""Small helpers views share: reading JSON bodies, path ids, replying."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web
from shared.errors import AppError, ErrorStatus, invalid_argument
from shared.pagination import parse_page_size, parse_page_token


async def read_json(request: web.Request) -> Any:
    raw = await request.read()  # over client_max_size -> 413 from aiohttp
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT, "INVALID_JSON_BODY", "the body is not valid JSON"
        ) from None


def path_id(request: web.Request, name: str = "id") -> str:
    raw = request.match_info[name]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT, "INVALID_ID", f"{name}: {raw!r} is not a UUID"
        ) from None


def optional_uuid_query(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name, "")
    if not raw:
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise invalid_argument(name, "must be a UUID") from None


def page_query(request: web.Request) -> dict[str, str]:
    """Checked page_size and page_token, ready to forward in an RPC query string."""
    size = parse_page_size(request.query.get("page_size"))
    token = request.query.get("page_token", "")
    parse_page_token(token)
    return {"page_size": str(size), "page_token": token}


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, default=str))
