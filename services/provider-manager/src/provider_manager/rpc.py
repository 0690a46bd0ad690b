"""provider-manager's RPC route table: (method, URI) -> handler. Nothing else lives here."""

from __future__ import annotations

from shared.rpc import Router

from provider_manager.handlers.providers import ProviderHandlers


def build_router(providers: ProviderHandlers) -> Router:
    router = Router()
    router.get("/v1/providers", providers.list)
    router.post("/v1/providers", providers.create)
    router.get("/v1/providers/{id}", providers.get)
    router.put("/v1/providers/{id}", providers.update)
    router.delete("/v1/providers/{id}", providers.delete)
    return router
