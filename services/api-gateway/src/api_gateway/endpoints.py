"""The endpoint registry: one declaration per route feeds both aiohttp and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel

from api_gateway.accounts import Identity
from api_gateway.permissions import Permission

View = Callable[[web.Request, Identity], Awaitable[web.StreamResponse]]
PublicView = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    schema_type: str = "string"


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
    QueryParam("page_size", "Items per page, 1 to 100 (default 100)", "integer"),
    QueryParam("page_token", "next_page_token of the previous page"),
)
