"""call-manager's RPC route table: (method, URI) -> handler. Unknown URIs answer 404."""

from __future__ import annotations

from shared.rpc import Router


def build_router() -> Router:
    return Router()
