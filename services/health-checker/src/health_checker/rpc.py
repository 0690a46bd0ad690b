"""health-checker's RPC route table: (method, URI) -> handler. Nothing else lives here."""

from __future__ import annotations

from shared.rpc import Router
from shared.unavailable import guard_router

from health_checker.handlers.board import BoardHandlers
from health_checker.handlers.health_checks import HealthCheckHandlers


def build_router(health_checks: HealthCheckHandlers, board: BoardHandlers) -> Router:
    router = Router()
    router.get("/v1/providers/{id}/health_checks", health_checks.list)
    # The operator console's fleet board: all active targets at once (no paging).
    router.get("/v1/probe_targets", board.list)
    return guard_router(router)  # a database outage answers 503, not 500
