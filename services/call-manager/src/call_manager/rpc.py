"""call-manager's RPC route tables: (method, URI) -> handler. Nothing else lives here.

The service queue takes every route; each replica's own queue takes only the hangup
orders other replicas forward to the owner of a dialog.
"""

from __future__ import annotations

from shared.rpc import Router
from shared.unavailable import guard_router

from call_manager.handlers.caller_ids import CallerIdHandlers
from call_manager.handlers.calls import CallHandlers
from call_manager.handlers.outbound_calls import OutboundCallHandlers
from call_manager.handlers.provider_metrics import ProviderMetricsHandlers
from call_manager.handlers.providercalls import ProviderCallHandlers


def build_router(
    providercalls: ProviderCallHandlers,
    calls: CallHandlers,
    outbound: OutboundCallHandlers,
    metrics: ProviderMetricsHandlers,
    caller_ids: CallerIdHandlers | None = None,
) -> Router:
    router = Router()
    router.get("/v1/providercalls", providercalls.list)
    router.post("/v1/providercalls", providercalls.create)
    router.get("/v1/providercalls/{id}", providercalls.get)
    router.delete("/v1/providercalls/{id}", providercalls.delete)
    router.get("/v1/calls", calls.list_calls)
    router.post("/v1/calls", outbound.create)
    router.get("/v1/calls/{id}", calls.get_call)
    router.post("/v1/calls/{id}/hangup", calls.hangup_call)
    router.get("/v1/groupcalls", calls.list_groupcalls)
    router.get("/v1/groupcalls/{id}", calls.get_groupcall)
    router.post("/v1/groupcalls/{id}/hangup", calls.hangup_groupcall)
    router.get("/v1/providers/{id}/call_metrics", metrics.get)
    if caller_ids is not None:
        router.get("/v1/caller_ids", caller_ids.list)
        router.post("/v1/caller_ids", caller_ids.create)
        router.get("/v1/caller_ids/{id}", caller_ids.get)
        router.delete("/v1/caller_ids/{id}", caller_ids.delete)
    return guard_router(router)  # a database outage answers 503, not 500


def build_replica_router(calls: CallHandlers) -> Router:
    router = Router()
    router.post("/v1/calls/{id}/hangup", calls.hangup_call)
    router.post("/v1/groupcalls/{id}/hangup", calls.hangup_groupcall)
    return guard_router(router)  # a database outage answers 503, not 500
