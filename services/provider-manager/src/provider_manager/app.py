"""Builds provider-manager: outbox relay, services, RPC server."""

from __future__ import annotations

from pathlib import Path

import structlog
from shared.rpc import RpcServer
from shared.runtime import ServiceApp

from provider_manager.carrier_setup.config import SetupConfig
from provider_manager.carrier_setup.service import SetupService
from provider_manager.credentials import CredentialCipher, load_key
from provider_manager.handlers.board import BoardHandlers
from provider_manager.handlers.dialroutes import DialrouteHandlers
from provider_manager.handlers.health import HealthHandlers
from provider_manager.handlers.provider_hosts import ProviderHostHandlers
from provider_manager.handlers.providers import ProviderHandlers
from provider_manager.handlers.registrations import RegistrationHandlers
from provider_manager.handlers.routes import RouteHandlers
from provider_manager.handlers.setup import SetupHandlers
from provider_manager.rpc import build_router
from provider_manager.services.board import BoardService
from provider_manager.services.dialroutes import DialrouteService
from provider_manager.services.health import HealthService
from provider_manager.services.providers import ProviderService
from provider_manager.services.registrations import RegistrationService
from provider_manager.services.routes import RouteService
from provider_manager.settings import SCHEMA, SERVICE, Settings
from provider_manager.tables import outbox

MIGRATIONS = Path(__file__).parent / "migrations"
log = structlog.get_logger("provider_manager.app")


class ProviderManagerApp(ServiceApp):
    name = SERVICE

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.ops_port)
        self.config = settings

    async def on_start(self) -> None:
        self.relay = await self.start_outbox_relay(outbox)
        self.providers = ProviderService(
            self.sessions, self.relay.wake, credential_cipher(self.config)
        )
        self.health = HealthService(self.sessions, self.relay.wake)
        default_customer = str(self.config.default_route_customer_id)
        self.routes = RouteService(self.sessions, self.relay.wake, default_customer)
        self.dialroutes = DialrouteService(self.sessions, default_customer)
        self.setups = SetupService(
            self.engine, self.sessions, self.providers, SetupConfig.from_settings(self.config)
        )
        # Setups a crash interrupted are named at every start (cleaned by the next setup).
        await self.setups.log_unfinished()
        router = build_router(
            ProviderHandlers(self.providers),
            HealthHandlers(self.health),
            RouteHandlers(self.routes),
            DialrouteHandlers(self.dialroutes),
            SetupHandlers(self.setups),
            RegistrationHandlers(RegistrationService(self.sessions, self.relay.wake)),
            board=BoardHandlers(BoardService(self.engine)),
            hosts=ProviderHostHandlers(self.sessions),
        )
        self.rpc_server = RpcServer(
            self.broker, self.settings.request_queue(SERVICE), router, self.config.rpc_prefetch
        )
        await self.rpc_server.start()
        self.on_stop(self.rpc_server.stop)


def credential_cipher(settings: Settings) -> CredentialCipher:
    key_text = settings.credentials_key.get_secret_value() if settings.credentials_key else None
    key = load_key(key_text, settings.credentials_key_file)
    if key is None:
        log.warning(
            "provider_credentials_disabled",
            hint="set PROVIDER_CREDENTIALS_KEY(_FILE) to store provider passwords",
        )
    return CredentialCipher(key)


def migrate(settings: Settings) -> None:
    from shared.migrations import upgrade

    upgrade(settings.database_url, MIGRATIONS, SCHEMA)
