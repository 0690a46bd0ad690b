"""The Dialer over the shared SIP layer: each leg is one `OutboundCall`.

The SIP layer keeps the RFC 3261 rules (retransmissions, ACKs, CANCEL after a 1xx, a 200
crossing the CANCEL ACKed and BYEd, the carrier's BYE answered) and the RTP silence; this
adapter only translates its events into leg events and our orders into its calls.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import structlog
from shared.sip.call import (
    CallEvent,
    CallEventKind,
    CallState,
    CredentialsSource,
    OutboundCall,
)
from shared.sip.digest import Credentials
from shared.sip.errors import InvalidHeaderError, SipError
from shared.sip.invite_request import CallSpec
from shared.sip.policy import OPEN_POLICY, RemotePolicy
from shared.sip.resolver import SipResolver
from shared.sip.rtp import RtpTicker
from shared.sip.stream import raise_open_files_limit
from shared.sip.timers import SipTimers
from shared.sip.transport import SipTransport

from call_manager.dialing.credentials import CredentialLookup
from call_manager.dialing.leg import (
    InviteSpec,
    LegEndKind,
    LegEvent,
    LegEventKind,
    LegListener,
)
from call_manager.policy.host_slots import HostSlots
from call_manager.settings import Settings

# A call's SIP-layer policy; the flag says its first hop came from the customer.
RemotePolicyFactory = Callable[[bool], RemotePolicy]

log = structlog.get_logger("call.sip")


def call_spec(spec: InviteSpec) -> CallSpec:
    return CallSpec(
        request_uri=spec.request_uri,
        destination=spec.next_hop,
        from_user=spec.from_user,
        from_display=spec.from_display or None,
        from_host=spec.from_host,
        anonymous=spec.anonymous,
        privacy=spec.privacy,
        asserted_identity=spec.asserted_identity,
        extra_headers=spec.extra_headers,
        transport=spec.transport,
    )


def leg_event(event: CallEvent) -> LegEvent | None:
    """Our view of a SIP layer event; None for what the controller does not need (100)."""
    code = event.status_code or 0
    kind = event.kind
    if kind is CallEventKind.PROGRESS:
        return LegEvent(LegEventKind.PROVISIONAL, code) if code > 100 else None
    if kind is CallEventKind.ANSWERED:
        return LegEvent(LegEventKind.ANSWERED, code, detail=event.reason or "")
    detail = event.error or event.reason or ""
    if kind is CallEventKind.FAILED:
        end = LegEndKind.REJECTED if code >= 300 else LegEndKind.UNREACHABLE
    elif kind is CallEventKind.CANCELLED:
        end = LegEndKind.CANCELED
    elif kind is CallEventKind.REMOTE_HANGUP:
        end = LegEndKind.REMOTE_BYE
    elif event.cause == "rtp_timeout":
        end = LegEndKind.MEDIA_TIMEOUT
    elif event.cause in ("session_expired", "session_refresh_failed"):
        end = LegEndKind.SESSION_EXPIRED
    else:
        end = LegEndKind.LOCAL_BYE
    return LegEvent(LegEventKind.ENDED, code, end, detail)


class SipLeg:
    def __init__(
        self, call: OutboundCall, listener: LegListener, slots: HostSlots | None = None
    ) -> None:
        self._call = call
        self._listener = listener
        self._slots = slots
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ended = False
        self._spawn(self._place())

    @property
    def sip_call_id(self) -> str:
        return self._call.call_id

    def _on_event(self, event: CallEvent) -> None:
        mapped = leg_event(event)
        if mapped is None or self._ended:
            return
        targets = tuple(
            {"address": t.address, "sip_status_code": t.status_code, "sip_reason": t.reason}
            for t in self._call.target_attempts
        )
        if mapped.kind is LegEventKind.ENDED:
            self._ended = True
            mapped = dataclasses.replace(mapped, targets=targets)
        elif mapped.kind is LegEventKind.ANSWERED:
            mapped = dataclasses.replace(mapped, dialog=self._call.dialog_record(), targets=targets)
        self._listener(mapped)

    async def _place(self) -> None:
        if self._slots is None:
            await self._invite()
            return
        async with self._slots.slot(self._call.spec.destination_host_port()):
            if self._ended or self._call.state is not CallState.IDLE:
                return  # hung up while waiting for a slot: nothing to send
            await self._invite()

    async def _invite(self) -> None:
        try:
            await self._call.invite()
        except Exception as exc:
            # The SIP layer reports carrier trouble as events; anything raised is ours.
            log.exception("invite_crashed", call_id=self._call.call_id)
            if not self._ended:
                self._ended = True
                self._listener(LegEvent(LegEventKind.ENDED, 0, LegEndKind.UNREACHABLE, str(exc)))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hangup(self) -> None:
        # hangup() picks CANCEL or BYE from the SIP state, which may be ahead of ours.
        try:
            await self._call.hangup()
        except SipError as exc:
            log.info("hangup_failed", call_id=self._call.call_id, error=str(exc))

    def cancel(self) -> None:
        self._spawn(self._hangup())

    def hangup(self) -> None:
        self._spawn(self._hangup())

    def abandon(self) -> None:
        self._ended = True
        self._call.drop()


async def open_transport(config: Settings) -> SipTransport:
    """The call-manager's SIP socket(s) as its settings say: bind address (all interfaces by
    default), the public address to advertise, TLS trust, path MTU, idle close."""
    raise_open_files_limit()  # a TCP/TLS connection per carrier
    return await SipTransport.create(
        config.sip_host,
        config.sip_port,
        advertise=config.sip_public_host or None,
        tls_ca_file=config.sip_tls_ca_file or None,
        mtu=config.sip_mtu,
        idle_timeout=config.sip_idle_timeout,
    )


class SipDialer:
    def __init__(
        self,
        transport: SipTransport,
        resolver: SipResolver,
        *,
        timers: SipTimers,
        media_host: str | None = None,
        media_public_host: str | None = None,
        rtp_port_range: tuple[int, int] | None = None,
        ticker: RtpTicker | None = None,
        rtp_timeout: float = 0.0,
        provisional_timeout: float = 0.0,
        credentials: CredentialLookup | None = None,
        session_expires: int = 1800,
        max_redirects: int = 0,
        remote_policy: RemotePolicyFactory | None = None,
        host_slots: HostSlots | None = None,
    ) -> None:
        """`remote_policy`: each call's shared.sip policy (None: no limits, for tests of the
        SIP layer); `host_slots`: the per-destination-host cap on INVITEs in flight."""
        self.remote_policy = remote_policy
        self.host_slots = host_slots
        self.session_expires = session_expires
        self.max_redirects = max_redirects
        self.transport = transport
        self.rtp_timeout = rtp_timeout
        self.provisional_timeout = provisional_timeout
        self.credentials = credentials
        self.resolver = resolver
        self.timers = timers
        self.media_host = media_host
        self.media_public_host = media_public_host
        self.rtp_port_range = rtp_port_range
        self.ticker = ticker

    def problem(self, spec: InviteSpec) -> str | None:
        try:
            call_spec(spec).validate()
        except InvalidHeaderError as exc:
            return str(exc)
        return None

    def _credentials_for(self, spec: InviteSpec) -> CredentialsSource:
        lookup, provider_id = self.credentials, spec.credentials_provider_id

        async def fetch() -> Credentials | None:
            if lookup is None or not provider_id:
                return None  # the call fails saying the provider has no credentials
            return await lookup.get(provider_id)

        return fetch

    def dial(self, spec: InviteSpec, listener: LegListener) -> SipLeg:
        holder: list[SipLeg] = []

        def forward(event: CallEvent) -> None:
            if holder:
                holder[0]._on_event(event)

        call = OutboundCall(
            self.transport,
            self.resolver,
            call_spec(spec),
            timers=self.timers,
            media_host=self.media_host,
            media_public_host=self.media_public_host,
            rtp_port_range=self.rtp_port_range,
            ticker=self.ticker,
            on_event=forward,
            rtp_timeout=self.rtp_timeout,
            provisional_timeout=self.provisional_timeout,
            credentials=self._credentials_for(spec),
            session_expires=self.session_expires,
            max_redirects=self.max_redirects,
            policy=self.remote_policy(spec.customer_hop) if self.remote_policy else OPEN_POLICY,
        )
        leg = SipLeg(call, listener, self.host_slots)
        holder.append(leg)
        return leg
