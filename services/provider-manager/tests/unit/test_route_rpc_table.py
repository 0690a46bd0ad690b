"""provider-manager serves the route and dial-route URIs."""

from __future__ import annotations

import inspect
from typing import Any

from provider_manager.rpc import build_router
from shared.rpc import RpcContext


class _AnyHandlers:
    def __getattr__(self, _name: str) -> Any:
        async def handler(_ctx: RpcContext) -> None:
            return None

        return handler


def test_route_uris() -> None:
    groups = inspect.signature(build_router).parameters
    placeholders: dict[str, Any] = {name: _AnyHandlers() for name in groups}
    router = build_router(**placeholders)
    table = {(r.method, r.template) for r in router.routes}
    assert table >= {
        ("GET", "/v1/routes"),
        ("POST", "/v1/routes"),
        ("GET", "/v1/routes/{id}"),
        ("PUT", "/v1/routes/{id}"),
        ("DELETE", "/v1/routes/{id}"),
        ("GET", "/v1/dialroutes"),
    }
    _route, params, query = router.resolve("GET", "/v1/dialroutes?customer_id=c&target=%2B1")
    assert params == {} and query == {"customer_id": "c", "target": "+1"}
