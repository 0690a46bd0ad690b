"""Builds call-manager: outbox relay, SIP transport and dialer, the live-call registry,
crash recovery, and two RPC servers (the service queue and this replica's own queue)."""

from __future__ import annotations

import uuid
from pathlib import Path

import structlog
from shared.rpc import RpcServer
from shared.runtime import ServiceApp
from shared.sip.resolver import SipResolver
from shared.sip.timers import SipTimers
from shared.sip.transport import SipTransport

from call_manager.calls.controller import CallTimers
from call_manager.dialing.credentials import CredentialLookup
from call_manager.dialing.leg import Dialer
from call_manager.dialing.sip_dialer import SipDialer, open_transport
from call_manager.dialing.survivor_bye import SurvivorBye
from call_manager.handlers.caller_ids import CallerIdHandlers
from call_manager.handlers.calls import CallHandlers
from call_manager.handlers.outbound_calls import OutboundCallHandlers
from call_manager.handlers.provider_metrics import ProviderMetricsHandlers
from call_manager.handlers.providercalls import ProviderCallHandlers
from call_manager.live.registry import LiveCalls
from call_manager.planning.candidates import CandidateFactory
from call_manager.policy.caller_ids import CallerIds
from call_manager.policy.dial_policy import CallRemotePolicy, DialPolicy
from call_manager.policy.fair_share import CustomerLimits, FairShare
from call_manager.policy.guard import CallGuard
from call_manager.policy.host_slots import HostSlots
from call_manager.policy.provider_hosts import ProviderHosts
from call_manager.rpc import build_replica_router, build_router
from call_manager.services.calls import CallService
from call_manager.services.destinations import DestinationResolver
from call_manager.services.dialroutes import DialrouteLookup
from call_manager.services.outbound_calls import OutboundCallService
from call_manager.services.provider_metrics import ProviderMetricsService
from call_manager.services.providercalls import ProviderCallService
from call_manager.services.providers import ProviderLookup
from call_manager.services.recovery import Recovery
from call_manager.settings import (
    AGENT_MANAGER,
    PROVIDER_MANAGER,
    REGISTRAR_MANAGER,
    SCHEMA,
    SERVICE,
    Settings,
)
from call_manager.tables import outbox

MIGRATIONS = Path(__file__).parent / "migrations"
log = structlog.get_logger("call-manager")
# How long a stopping replica gives its calls to hang up properly (CANCEL/BYE answered).
SHUTDOWN_GRACE = 5.0


class CallManagerApp(ServiceApp):
    name = SERVICE

    def __init__(self, settings: Settings, dialer: Dialer | None = None) -> None:
        """`dialer` replaces the SIP dialer (tests of the status machine without a carrier)."""
        super().__init__(settings, settings.ops_port)
        self.config = settings
        self.replica_id = settings.replica_id or uuid.uuid4().hex
        self._dialer_override = dialer
        self.transport: SipTransport | None = None
        self.survivor_bye: SurvivorBye | None = None

    async def on_start(self) -> None:
        config = self.config
        self.relay = await self.start_outbox_relay(outbox)
        self.on_stop(self._flush_events)

        # One resolver for the dialer and the dial policy: one cache, one bound.
        self.resolver = SipResolver(
            nameservers=config.nameservers, max_entries=config.dns_cache_entries
        )
        provider_queue = config.request_queue(PROVIDER_MANAGER)
        # Asked at POST /calls and again by the SIP layer (a customer's hops are no carrier's).
        self.dial_policy = DialPolicy(
            config.allow_list,
            ProviderHosts(self.rpc, provider_queue, config.rpc_timeout),
            self.resolver,
        )
        self.dialer = self._dialer_override or await self._sip_dialer()
        timers = CallTimers(
            ring_timeout=config.ring_timeout,
            max_duration=config.max_duration,
            ending_guard=64 * config.sip_t1 + 2.0,
        )
        self.live = LiveCalls(self.sessions, self.relay.wake, self.dialer, timers, self.replica_id)
        candidates = CandidateFactory(self.dialer.problem)
        self.recovery = Recovery(
            self.sessions,
            self.relay.wake,
            self.replica_id,
            config.heartbeat_interval,
            config.replica_dead_after,
            config.reaper_interval,
            config.idempotency_ttl,
            end_dialogs=self.survivor_bye.end_all if self.survivor_bye is not None else None,
            on_fenced=self.live.fence,
        )
        await self.recovery.start()
        self.on_stop(self.recovery.stop)
        self.on_stop(self._hang_up_all)

        destinations = DestinationResolver(
            self.rpc,
            config.peer_queue(AGENT_MANAGER),
            config.peer_queue(REGISTRAR_MANAGER),
            config.rpc_timeout,
        )
        self.providercalls = ProviderCallService(
            self.sessions,
            self.relay.wake,
            ProviderLookup(self.rpc, provider_queue, config.rpc_timeout),
            destinations,
            candidates,
            self.live,
            config.idempotency_wait,
        )
        self.caller_ids = CallerIds(self.sessions)
        self.guard = CallGuard(
            self.dial_policy,
            self.caller_ids,
            FairShare(CustomerLimits(config.customer_max_calls, config.customer_calls_per_second)),
        )
        self.outbound_calls = OutboundCallService(
            self.sessions,
            self.relay.wake,
            DialrouteLookup(self.rpc, provider_queue, config.rpc_timeout),
            destinations,
            candidates,
            self.live,
            config.idempotency_wait,
            config.max_attempts,
            guard=self.guard,
        )
        self.calls = CallService(
            self.sessions, self.live, self.rpc, config.replica_queue, self.recovery
        )
        # The replica queue first: no call can be owned here before its orders can arrive.
        self.replica_server = RpcServer(
            self.broker,
            config.replica_queue(self.replica_id),
            build_replica_router(CallHandlers(self.calls, forwarded=True)),
            config.rpc_prefetch,
        )
        await self.replica_server.start()
        self.on_stop(self.replica_server.stop)
        self.rpc_server = RpcServer(
            self.broker,
            config.request_queue(SERVICE),
            build_router(
                ProviderCallHandlers(self.providercalls),
                CallHandlers(self.calls),
                OutboundCallHandlers(self.outbound_calls),
                ProviderMetricsHandlers(ProviderMetricsService(self.sessions)),
                CallerIdHandlers(self.caller_ids),
            ),
            config.rpc_prefetch,
        )
        await self.rpc_server.start()
        self.on_stop(self.rpc_server.stop)

    async def _sip_dialer(self) -> SipDialer:
        config = self.config
        self.transport = await open_transport(config)
        transport = self.transport

        async def close_transport() -> None:
            transport.close()

        self.on_stop(close_transport)
        allow, dial_policy = config.allow_list, self.dial_policy
        timers = SipTimers(t1=config.sip_t1)
        self.survivor_bye = SurvivorBye(transport, self.resolver, timers)
        return SipDialer(
            transport,
            self.resolver,
            timers=timers,
            media_host=config.rtp_host or None,
            media_public_host=config.rtp_public_host or None,
            rtp_port_range=config.rtp_port_range,
            rtp_timeout=config.rtp_timeout,
            provisional_timeout=config.invite_response_timeout,
            credentials=CredentialLookup(
                self.rpc, config.request_queue(PROVIDER_MANAGER), config.rpc_timeout
            ),
            session_expires=config.session_expires,
            max_redirects=config.max_redirects,
            remote_policy=lambda customer_hop: CallRemotePolicy(allow, customer_hop, dial_policy),
            host_slots=HostSlots(config.host_max_invites),
        )

    @property
    def sip_port(self) -> int:
        return self.transport.local_port if self.transport is not None else 0

    async def _hang_up_all(self) -> None:
        left = await self.live.shutdown(SHUTDOWN_GRACE)
        await self.recovery.leave()
        if left:
            self._log_left(left)

    def _log_left(self, left: list[str]) -> None:
        log.warning("calls_finished_at_shutdown", calls=len(left))

    async def _flush_events(self) -> None:
        # Publish what the shutdown just wrote; a surviving replica's relay would otherwise.
        try:
            await self.relay.publish_batch()
        except Exception:
            return


def migrate(settings: Settings) -> None:
    from shared.migrations import upgrade

    upgrade(settings.database_url, MIGRATIONS, SCHEMA)
