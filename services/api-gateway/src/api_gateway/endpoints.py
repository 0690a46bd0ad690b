"""The endpoint registry: one declaration per route feeds both aiohttp and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from shared.ids import UUID_PATTERN
from shared.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PAGE_TOKEN_PATTERN

from api_gateway.accounts import Identity
from api_gateway.permissions import Permission

View = Callable[[web.Request, Identity], Awaitable[web.StreamResponse]]
PublicView = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    # JSON Schema of the value: the constraints the server enforces, no more, no fewer.
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    tag: str
    # Any one of these bits grants access; None marks a public endpoint.
    permission: Permission | None
    view: View | None = None
    public_view: PublicView | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    query: tuple[QueryParam, ...] = ()
    # Error answers this endpoint adds to the common ones in the OpenAPI document (code, text).
    errors: tuple[tuple[str, str], ...] = ()


PAGING = (
    QueryParam(
        "page_size",
        "Items per page, 1 to 100 (default 100)",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
    ),
    QueryParam(
        "page_token",
        "next_page_token of the previous page (empty: the first page). A page after the last "
        'is {"result": [], "next_page_token": ""}. A bare timestamp (UTC, '
        "`YYYY-MM-DD HH:MM:SS.ffffff`) is accepted too: items created before it.",
        {
            "type": "string",
            "pattern": PAGE_TOKEN_PATTERN,
            "not": {"type": "string", "pattern": "\\n"},
        },
    ),
)


def uuid_filter(name: str, description: str) -> QueryParam:
    """An optional id filter: a UUID, or empty for none."""
    pattern = f"^(?:{UUID_PATTERN[1:-1]})?$"
    return QueryParam(name, description, {"type": "string", "pattern": pattern})
