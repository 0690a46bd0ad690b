"""Small helpers views share: reading JSON bodies, path ids, replying."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web
from shared.errors import AppError, ErrorStatus


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


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, default=str))
