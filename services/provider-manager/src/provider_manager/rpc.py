"""provider-manager's RPC route table: (method, URI) -> handler. Nothing else lives here."""

from __future__ import annotations

from shared.rpc import Router
from shared.unavailable import guard_router

from provider_manager.handlers.board import BoardHandlers
from provider_manager.handlers.dialroutes import DialrouteHandlers
from provider_manager.handlers.health import HealthHandlers
from provider_manager.handlers.provider_hosts import ProviderHostHandlers
from provider_manager.handlers.providers import ProviderHandlers
from provider_manager.handlers.registrations import RegistrationHandlers
from provider_manager.handlers.routes import RouteHandlers
from provider_manager.handlers.setup import SetupHandlers


def build_router(
    providers: ProviderHandlers,
    health: HealthHandlers,
    routes: RouteHandlers,
    dialroutes: DialrouteHandlers,
    setups: SetupHandlers,
    registrations: RegistrationHandlers | None = None,
    board: BoardHandlers | None = None,
    hosts: ProviderHostHandlers | None = None,
) -> Router:
    router = Router()
    router.get("/v1/providers", providers.list)
    router.post("/v1/providers", providers.create)
    # Before /v1/providers/{id}: the router takes the first route whose method and path match.
    router.post("/v1/providers/setup", setups.setup)
    router.get("/v1/providers/setups", setups.list)
    router.get("/v1/providers/setups/{id}", setups.get)
    # The health-checker's batched write-back; the gateway does not expose it.
    router.post("/v1/providers/health", health.apply)
    if registrations is not None:
        # The registration owner's reports (health-checker); not exposed by the gateway.
        router.post("/v1/providers/registrations", registrations.apply)
    # The operator console's fleet board: all active providers in one reply, no paging.
    if board is not None:
        router.get("/v1/providers/board", board.list)
    if hosts is not None:
        # call-manager's dial policy: which hosts are carriers. Not exposed publicly.
        router.get("/v1/providers/hostnames", hosts.hostnames)
    router.get("/v1/providers/{id}", providers.get)
    # The decrypted Digest password for call-manager and the registrar owner; internal only
    # (the gateway has no route to it), never logged, never in an event.
    router.get("/v1/providers/{id}/credentials", providers.credentials)
    router.put("/v1/providers/{id}", providers.update)
    router.delete("/v1/providers/{id}", providers.delete)
    router.get("/v1/routes", routes.list)
    router.post("/v1/routes", routes.create)
    router.get("/v1/routes/{id}", routes.get)
    router.put("/v1/routes/{id}", routes.update)
    router.delete("/v1/routes/{id}", routes.delete)
    # The call-manager's question "which providers, in what order?"; not exposed publicly.
    router.get("/v1/dialroutes", dialroutes.resolve)
    return guard_router(router)  # a database outage answers 503, not 500
