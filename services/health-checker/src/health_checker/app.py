"""Builds health-checker: provider catalog (events + resync), probe scheduler, result
writer, history over RPC."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from shared.events import EventSubscriber
from shared.rpc import RpcServer
from shared.runtime import ServiceApp
from shared.sip.resolver import SipResolver
from shared.sip.timers import SipTimers
from shared.sip.transport import SipTransport

from health_checker.handlers.board import BoardHandlers
from health_checker.handlers.health_checks import HealthCheckHandlers
from health_checker.metrics import FailureGauge
from health_checker.probes import Probe
from health_checker.rpc import build_router
from health_checker.services.board import BoardService
from health_checker.services.catalog import PROVIDER_EVENTS, ProviderCatalog
from health_checker.services.claims import SqlTargetClaims
from health_checker.services.fleet import FleetGauges
from health_checker.services.history import HistoryService
from health_checker.services.recorder import ResultRecorder
from health_checker.services.registrations import RegistrationKeeper
from health_checker.services.results import ResultWriter
from health_checker.services.scheduler import ProbeScheduler
from health_checker.services.writeback import ProviderHealthWriteBack
from health_checker.settings import SCHEMA, SERVICE, Settings
from health_checker.sip_probe import SipOptionsProbe
from health_checker.tables import outbox, processed_events

MIGRATIONS = Path(__file__).parent / "migrations"
PROVIDER_MANAGER = "provider-manager"


def replica_name() -> str:
    """Recorded as claimed_by: which process probed what (unique even on one host)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class HealthCheckerApp(ServiceApp):
    name = SERVICE

    def __init__(self, settings: Settings, probe: Probe | None = None) -> None:
        """`probe` replaces SIP OPTIONS (tests); None probes for real."""
        super().__init__(settings, settings.ops_port)
        self.config = settings
        self.replica = replica_name()
        self._probe = probe
        self.sip: SipOptionsProbe | None = None

    async def on_start(self) -> None:
        cfg = self.config
        self.relay = await self.start_outbox_relay(outbox)

        probe = self._probe
        if probe is None:
            self.sip = await SipOptionsProbe.create(cfg)
            self.on_stop(self.sip.close)
            probe = self.sip

        failures = FailureGauge()
        self.writer = ResultWriter(
            [
                ResultRecorder(self.sessions, failures, self.relay.wake),
                ProviderHealthWriteBack(
                    self.rpc, cfg.request_queue(PROVIDER_MANAGER), cfg.writeback_timeout
                ),
            ],
            batch_size=cfg.batch_size,
            flush_interval=cfg.flush_interval,
        )
        self.writer.start()
        self.on_stop(self.writer.stop)

        self.scheduler = ProbeScheduler(
            SqlTargetClaims(self.sessions, self.replica, cfg.interval, cfg.jitter),
            probe,
            self.writer,
            interval=cfg.interval,
            timeout=cfg.timeout,
            concurrency=cfg.concurrency,
            poll_interval=cfg.poll_interval,
            claim_batch=cfg.batch_size,
            after_round=FleetGauges(self.sessions, failures).refresh,
        )
        self.registrations = await self._registration_keeper()
        self.catalog = ProviderCatalog(
            self.sessions,
            self.rpc,
            cfg.request_queue(PROVIDER_MANAGER),
            self.scheduler,
            failures,
            replica=self.replica,
            resync_interval=cfg.resync_interval,
            rpc_timeout=cfg.rpc_timeout,
            on_registrations=self.registrations.wake,
        )
        self.subscriber = EventSubscriber(
            self.broker,
            cfg.subscribe_queue(SERVICE),
            [cfg.event_exchange(PROVIDER_MANAGER)],
            self.catalog.apply_event,
            self.sessions,
            processed_events,
            after_commit=self.catalog.after_commit,
            event_types=PROVIDER_EVENTS,
        )
        await self.subscriber.start()
        self.on_stop(self.subscriber.stop)
        await self.catalog.start()
        self.on_stop(self.catalog.stop)

        router = build_router(
            HealthCheckHandlers(HistoryService(self.sessions)),
            BoardHandlers(BoardService(self.sessions)),
        )
        self.rpc_server = RpcServer(
            self.broker, cfg.request_queue(SERVICE), router, cfg.rpc_prefetch
        )
        await self.rpc_server.start()
        self.on_stop(self.rpc_server.stop)

        self.scheduler.start()
        self.on_stop(self.scheduler.stop)
        self.registrations.start()
        self.on_stop(self.registrations.stop)

    async def _registration_keeper(self) -> RegistrationKeeper:
        """REGISTERs go out of the probes' socket; with a test probe, out of their own."""
        cfg = self.config
        if self.sip is not None:
            transport, resolver = self.sip.transport, self.sip.resolver
        else:
            transport = await SipTransport.create(cfg.sip_host, 0)
            resolver = SipResolver(nameservers=cfg.nameservers)

            async def close() -> None:
                transport.close()

            self.on_stop(close)
        return RegistrationKeeper(
            self.sessions,
            self.rpc,
            cfg.request_queue(PROVIDER_MANAGER),
            transport,
            resolver,
            replica=self.replica,
            timers=SipTimers(),
            lease=cfg.register_lease,
            poll_interval=cfg.poll_interval,
            retry_base=cfg.register_retry,
            retry_max=cfg.register_retry_max,
            rpc_timeout=cfg.rpc_timeout,
            user_agent=cfg.user_agent,
        )


def migrate(settings: Settings) -> None:
    from shared.migrations import upgrade

    upgrade(settings.database_url, MIGRATIONS, SCHEMA)
