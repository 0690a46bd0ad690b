"""Builds call-manager: outbox relay and RPC server."""

from __future__ import annotations

from pathlib import Path

from shared.events import OutboxRelay
from shared.rpc import RpcServer
from shared.runtime import ServiceApp

from call_manager.rpc import build_router
from call_manager.settings import SCHEMA, SERVICE, Settings
from call_manager.tables import outbox

MIGRATIONS = Path(__file__).parent / "migrations"


class CallManagerApp(ServiceApp):
    name = SERVICE

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.ops_port)
        self.config = settings

    async def on_start(self) -> None:
        self.relay = OutboxRelay(
            self.engine, outbox, self.broker, self.settings.event_exchange(SERVICE)
        )
        await self.relay.start()
        self.on_stop(self.relay.stop)
        self.rpc_server = RpcServer(
            self.broker,
            self.settings.request_queue(SERVICE),
            build_router(),
            self.config.rpc_prefetch,
        )
        await self.rpc_server.start()
        self.on_stop(self.rpc_server.stop)


def migrate(settings: Settings) -> None:
    from shared.migrations import upgrade

    upgrade(settings.database_url, MIGRATIONS, SCHEMA)
