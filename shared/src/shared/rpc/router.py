"""The RPC route table: (method, URI pattern) -> handler, as a service's rpc.py declares it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shared.errors import AppError, ErrorStatus


@dataclass(frozen=True)
class RpcContext:
    """What a handler sees of a request."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    data: Any
    request_id: str | None
    publisher: str
    # The broker message id; stable across redeliveries, so creates can derive ids from it.
    message_id: str | None = None
    redelivered: bool = False

    def body(self) -> dict[str, Any]:
        """The JSON object body, or a 400 when the body is something else."""
        if self.data is None:
            return {}
        if not isinstance(self.data, dict):
            raise AppError(
                ErrorStatus.INVALID_ARGUMENT, "INVALID_JSON_BODY", "body must be a JSON object"
            )
        return self.data


@dataclass
class Reply:
    data: Any = None
    status_code: int = 200


Handler = Callable[[RpcContext], Awaitable[Reply | Any]]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    handler: Handler


@dataclass
class Router:
    routes: list[_Route] = field(default_factory=list)

    def add(self, method: str, template: str, handler: Handler) -> None:
        """`template` uses {name} for a path segment, e.g. /v1/providers/{id}."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append(_Route(method.upper(), re.compile(f"^{regex}$"), template, handler))

    def get(self, template: str, handler: Handler) -> None:
        self.add("GET", template, handler)

    def post(self, template: str, handler: Handler) -> None:
        self.add("POST", template, handler)

    def put(self, template: str, handler: Handler) -> None:
        self.add("PUT", template, handler)

    def delete(self, template: str, handler: Handler) -> None:
        self.add("DELETE", template, handler)

    def resolve(self, method: str, uri: str) -> tuple[_Route, dict[str, str], dict[str, str]]:
        parts = urlsplit(uri)
        path_matched = False
        for route in self.routes:
            match = route.pattern.match(parts.path)
            if match is None:
                continue
            path_matched = True
            if route.method == method.upper():
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                return route, match.groupdict(), query
        if path_matched:
            raise AppError(
                ErrorStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", f"{method} not allowed here"
            )
        raise AppError(ErrorStatus.NOT_FOUND, "URI_NOT_FOUND", f"no route for {parts.path}")
