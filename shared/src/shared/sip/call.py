"""OutboundCall: one UAC call from INVITE to hangup (RFC 3261 sections 9, 12-15).

    call = OutboundCall(transport, resolver, CallSpec(request_uri="sip:4930123@carrier.example"))
    outcome = await call.invite(answer_timeout=60)      # ANSWERED, FAILED or CANCELLED event
    async for event in call.events(): ...                # 1xx progress, answer, hangups
    await call.cancel()   # while ringing;   await call.bye()   # once answered

Rules kept here: the 2xx is ACKed by the dialog (new branch, sent to the Contact or the
first Record-Route), retransmitted 2xx get the same ACK again, CANCEL waits for a
provisional response, a 200 that crosses our CANCEL is ACKed and then BYEd, and in-dialog
requests from the carrier (BYE above all) are answered.

Digest (RFC 3261 section 22, digest.py): a 401/407 to the INVITE is ACKed by its transaction,
then the INVITE goes again with CSeq+1, the same Call-ID and From tag, a new branch and the
credentials; at most one retry per challenge (a `stale=true` one may earn a second), never
a loop. The 2xx's ACK repeats the INVITE's credentials, and BYE carries them for every realm
that challenged (and is itself retried once if challenged). CANCEL is never resent with
credentials: it must match the INVITE it cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from weakref import WeakKeyDictionary

from shared.metrics import SIP_TRANSPORT_SWITCHES
from shared.sip import auth_metrics
from shared.sip.addresses import is_wildcard
from shared.sip.dead_targets import DEFAULT_DEAD_FOR, DeadTargets, retry_after_seconds
from shared.sip.dialog import Dialog
from shared.sip.digest import (
    PROXY_AUTHENTICATE,
    WWW_AUTHENTICATE,
    Credentials,
    DigestSession,
    parse_challenges,
)
from shared.sip.errors import (
    CallStateError,
    ResolutionError,
    SipError,
    SipParseError,
    TransactionTimeout,
    TransportError,
)
from shared.sip.ids import new_branch, new_call_id, new_tag
from shared.sip.invite_request import ALLOW, CallSpec, build_invite
from shared.sip.invite_transaction import InviteClientTransaction, build_cancel
from shared.sip.message import SipMessage, SipRequest, SipResponse, build_response
from shared.sip.numbers import MAX_CSEQ, parse_uint
from shared.sip.policy import OPEN_POLICY, RemotePolicy
from shared.sip.resolver import SipResolver
from shared.sip.rtp import RtpStream, RtpTicker, default_ticker
from shared.sip.sdp import (
    MIRRORED_DIRECTION,
    MediaDescription,
    build_answer,
    build_offer,
    new_session_id,
    parse_sdp,
)
from shared.sip.session_timer import (
    DEFAULT_SESSION_EXPIRES,
    MIN_SE,
    SessionTimer,
    header_tokens,
    read_min_se,
    read_session_expires,
)
from shared.sip.target import TCP, UDP, Target, contact_uri
from shared.sip.timers import DEFAULT_TIMERS, SipTimers
from shared.sip.transaction import NonInviteClientTransaction
from shared.sip.transport import Address, SipTransport
from shared.sip.uri import SipUri, format_host_port, parse_name_addr

log = logging.getLogger(__name__)

# Retransmission answers kept per call (the peer's distinct in-dialog requests).
MAX_ANSWERED_REQUESTS = 64


class CallState(StrEnum):
    IDLE = "idle"
    CALLING = "calling"  # INVITE sent, nothing heard yet
    PROCEEDING = "proceeding"  # a 1xx arrived
    ANSWERED = "answered"  # 2xx ACKed, media running
    ENDED = "ended"  # answered, then hung up by either side
    FAILED = "failed"
    CANCELLED = "cancelled"


class CallEventKind(StrEnum):
    PROGRESS = "progress"  # 1xx: 100, 180, 183 (with or without SDP)
    ANSWERED = "answered"
    FAILED = "failed"  # non-2xx final, timeout, resolution or transport failure
    CANCELLED = "cancelled"  # we cancelled it (487, or a 200 that crossed the CANCEL)
    REMOTE_HANGUP = "remote_hangup"  # the carrier sent BYE
    LOCAL_HANGUP = "local_hangup"  # we sent BYE


_TERMINAL = frozenset(
    {
        CallEventKind.FAILED,
        CallEventKind.CANCELLED,
        CallEventKind.REMOTE_HANGUP,
        CallEventKind.LOCAL_HANGUP,
    }
)


@dataclass(frozen=True, slots=True)
class CallEvent:
    kind: CallEventKind
    status_code: int | None = None
    reason: str | None = None
    sdp: str | None = None  # the body, when the response carried SDP
    remote_media: MediaDescription | None = None
    to_tag: str | None = None  # set from the first 1xx with a tag on: an early dialog
    error: str | None = None
    # Why we ended an answered call, when not asked to: "rtp_timeout", "unacked_2xx".
    cause: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def terminal(self) -> bool:
        return self.kind in _TERMINAL


EventCallback = Callable[[CallEvent], None]
# Asked once, on the first 401/407 of a call: the trunk's Digest credentials, or None.
CredentialsSource = Callable[[], Awaitable[Credentials | None]]
AUTH_CHALLENGES = (401, 407)
# Rounds of challenge -> signed retry for one request: one, plus one for a stale nonce.
MAX_AUTH_ROUNDS = 2
NO_CREDENTIALS = "the carrier asked for Digest authentication and the provider has no credentials"


@dataclass(frozen=True, slots=True)
class TargetAttempt:
    """One RFC 3263 address tried by the call: its final code (0: none came) and why."""

    address: str
    status_code: int
    reason: str


_dead_targets: WeakKeyDictionary[SipTransport, DeadTargets] = WeakKeyDictionary()


def dead_targets_of(transport: SipTransport) -> DeadTargets:
    """The memory of failed addresses shared by every call on `transport`."""
    memory = _dead_targets.get(transport)
    if memory is None:
        memory = _dead_targets[transport] = DeadTargets()
    return memory


class OutboundCall:
    def __init__(
        self,
        transport: SipTransport,
        resolver: SipResolver,
        spec: CallSpec,
        *,
        timers: SipTimers = DEFAULT_TIMERS,
        media_host: str | None = None,
        media_public_host: str | None = None,
        rtp_port_range: tuple[int, int] | None = None,
        ticker: RtpTicker | None = None,
        send_rtp: bool = True,
        on_event: EventCallback | None = None,
        max_targets: int = 3,
        rtp_timeout: float = 0.0,
        provisional_timeout: float = 0.0,
        dead_targets: DeadTargets | None = None,
        credentials: CredentialsSource | None = None,
        session_expires: int = DEFAULT_SESSION_EXPIRES,
        max_redirects: int = 0,
        redirect_check: Callable[[CallSpec], bool] | None = None,
        policy: RemotePolicy = OPEN_POLICY,
    ) -> None:
        """`media_host`: where the RTP socket binds (default: the SIP bind address);
        `media_public_host`: what SDP advertises (default: the transport's public address,
        else `media_host` unless it is the wildcard, else the local address routed to the
        carrier). Binding and advertising differ behind 1:1 NAT.
        `rtp_timeout`: BYE an answered call that received no RTP for that long (0: never).
        `provisional_timeout`: move to the next target when one sends no response at all
        within that long (0: Timer B decides). `dead_targets`: the process-wide memory of
        failed addresses (default: one per transport). `session_expires`: the RFC 4028
        interval asked for. `max_redirects`: how many 3xx to follow (0: a 3xx fails the
        call); `redirect_check` may refuse a redirected spec (e.g. a host not allowed).
        `policy`: where this call may send SIP and RTP (see shared.sip.policy).
        Raises InvalidHeaderError at once when `spec` carries unusable values.
        """
        spec.validate()
        self.transport = transport
        self.resolver = resolver
        self.spec = spec
        self.timers = timers
        self.media_host = media_host or transport.local_host
        self.media_public_host = media_public_host or transport.public_host
        self.rtp_port_range = rtp_port_range
        self._ticker = ticker
        self.send_rtp = send_rtp
        self.on_event = on_event
        self.max_targets = max_targets
        self.rtp_timeout = rtp_timeout
        self.provisional_timeout = provisional_timeout
        self.dead_targets = dead_targets or dead_targets_of(transport)
        self.target_attempts: list[TargetAttempt] = []  # every address tried, in order
        self._credentials_source = credentials
        self._digest: DigestSession | None = None
        self._invite_auth: list[tuple[str, str]] = []  # the INVITE's credentials, for its ACK
        self.session_expires = max(session_expires, MIN_SE)
        self.max_redirects = max_redirects
        self.redirect_check = redirect_check
        self.session_timer: SessionTimer | None = None
        self.session_refreshes = 0
        self._session_timer: asyncio.TimerHandle | None = None
        self._peer_allows_update = False
        self._min_se: int | None = None
        self._cseq = 0  # the last CSeq number we used in this Call-ID (INVITEs, PRACKs)
        self._rseq_seen: dict[str, int] = {}
        self.policy = policy

        self.call_id = new_call_id()
        self.local_tag = new_tag()
        self.state = CallState.IDLE
        self.history: list[CallEvent] = []
        self.outcome: CallEvent | None = None  # ANSWERED, FAILED or CANCELLED
        self.dialog: Dialog | None = None
        self.invite_request: SipRequest | None = None
        self.destination: Target | None = None  # where the (last) INVITE went
        self.remote_media: MediaDescription | None = None
        self.rtp: RtpStream | None = None
        self.answered_at: float | None = None

        self._queue: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._setup_done = asyncio.Event()
        self._ended = asyncio.Event()
        self._txn: InviteClientTransaction | None = None
        self._cancel_requested = False
        self._cancel_sent = False
        self._cancel_note: str | None = None
        self._cancel_timer: asyncio.TimerHandle | None = None
        self._answer_timer: asyncio.TimerHandle | None = None
        self._ack: tuple[bytes, Address] | None = None
        self._early_sdp: str | None = None
        self._local_sdp = b""
        self._session_id = new_session_id()
        self._sdp_version = 1
        self._direction = "sendrecv"  # ours, as last sent in an offer or answer
        # Answers to the peer's in-dialog requests, for their retransmissions; bounded, as
        # a peer could send endless distinct branches within one dialog.
        self._answered_requests: dict[tuple[str, str], bytes] = {}
        self._reinvite_timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._registered = False
        self._pinned: Target | None = None  # a TCP/TLS connection kept open for the dialog

    # -- public API --------------------------------------------------------------------------

    async def invite(self, *, answer_timeout: float | None = None) -> CallEvent:
        """Place the call; returns the ANSWERED, FAILED or CANCELLED event.

        `answer_timeout`: CANCEL when nobody answered within that many seconds.
        Targets of the provider are tried in order while none has answered at all.
        """
        if self.state is not CallState.IDLE:
            raise CallStateError(f"invite() on a call in state {self.state}")
        self.state = CallState.CALLING
        self.transport.register_dialog(self.call_id, self)
        self._registered = True
        try:
            return await self._place(answer_timeout)
        except BaseException:
            self._release()
            raise

    async def cancel(self) -> CallEvent | None:
        """Abandon the call before it is answered; returns the setup outcome.

        Before any provisional response the CANCEL waits for one (RFC 3261 section 9.1); if
        the call gets answered meanwhile it is ACKed and hung up at once.
        """
        if self.state is CallState.IDLE:
            self.state = CallState.CANCELLED
            self._emit(CallEvent(CallEventKind.CANCELLED, reason="cancelled before INVITE"))
            return self.outcome
        if self.state is CallState.ANSWERED:
            raise CallStateError("the call is answered: use bye()")
        if self.state in (CallState.CALLING, CallState.PROCEEDING):
            self._request_cancel(None)
        await self._setup_done.wait()
        return self.outcome

    async def bye(self) -> SipResponse | None:
        """Hang up an answered call; returns the BYE's final response (None on timeout)."""
        if self.state in (CallState.CALLING, CallState.PROCEEDING):
            raise CallStateError("the call is not answered: use cancel()")
        if self.state is not CallState.ANSWERED or self.dialog is None:
            return None
        self.state = CallState.ENDED
        self._stop_media()
        response = await self._send_bye(self.dialog)
        self._emit(
            CallEvent(
                CallEventKind.LOCAL_HANGUP,
                status_code=response.status_code if response else None,
                reason=response.reason if response else None,
                error=None if response else "no response to BYE",
            )
        )
        return response

    async def hangup(self) -> None:
        """Whatever ends the call from here: CANCEL while ringing, BYE once answered."""
        if self.state is CallState.ANSWERED:
            await self.bye()
        elif self.state in (CallState.IDLE, CallState.CALLING, CallState.PROCEEDING):
            await self.cancel()

    async def wait_ended(self, timeout: float | None = None) -> CallEvent:
        """Wait for the terminal event (failure, cancel or either side's hangup)."""
        async with asyncio.timeout(timeout):
            await self._ended.wait()
        return self.history[-1]

    async def events(self) -> AsyncIterator[CallEvent]:
        """Every event in order, ending after the terminal one. One consumer only."""
        while True:
            event = await self._queue.get()
            yield event
            if event.terminal:
                return

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def dialog_record(self) -> dict[str, Any] | None:
        """What a BYE from another process needs (None before the answer)."""
        if self.dialog is None or self.destination is None:
            return None
        return {
            **self.dialog.to_record(),
            "transport": self.destination.transport,
            "destination_host": self.destination.host,
            "destination_port": self.destination.port,
        }

    def drop(self) -> None:
        """Forget the call without a word to the carrier: another process has ended it (or
        will). Media stops, timers and transactions are released; no event follows."""
        self.on_event = None
        if self._txn is not None:
            self._txn.abandon("dropped")
        self._stop_media()
        self._release()
        for task in list(self._tasks):
            task.cancel()
        if self.state in (CallState.CALLING, CallState.PROCEEDING, CallState.ANSWERED):
            self.state = CallState.ENDED
        self._setup_done.set()
        self._ended.set()

    async def aclose(self) -> None:
        """Hang up if needed and release sockets; safe to call more than once."""
        if self.state in (CallState.CALLING, CallState.PROCEEDING, CallState.ANSWERED):
            with contextlib.suppress(SipError):
                await self.hangup()
        self._release()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- call setup --------------------------------------------------------------------------

    async def _place(self, answer_timeout: float | None) -> CallEvent:
        spec = self.spec
        found = await self._targets(spec)
        if isinstance(found, CallEvent):
            return found
        try:
            self.rtp = RtpStream.open(self.media_host, self.rtp_port_range)
        except OSError as exc:
            return self._fail(error=f"no RTP port: {exc}")
        self.rtp.may_latch = self.policy.allows_media  # symmetric RTP sends where RTP came from
        self.rtp.listen()  # early media and symmetric RTP latching need the socket read
        if answer_timeout is not None:
            self._answer_timer = asyncio.get_running_loop().call_later(
                answer_timeout, self._request_cancel, f"no answer within {answer_timeout:g}s"
            )
        redirects = 0
        while True:
            outcome = await self._invite_targets(spec, found)
            if isinstance(outcome, CallEvent):
                return outcome
            redirect = (
                self._redirect_spec(spec, outcome) if redirects < self.max_redirects else None
            )
            if redirect is None:
                return await self._on_final(outcome)
            # RFC 3261 section 8.1.3.4: a new INVITE to the Contact, same Call-ID and To
            redirects += 1
            log.info("call %s: redirected to %s", self.call_id, redirect.request_uri)
            next_found = await self._targets(redirect, first=False)
            if isinstance(next_found, CallEvent):
                return next_found
            spec, found = redirect, next_found

    async def _targets(self, spec: CallSpec, first: bool = True) -> list[Target] | CallEvent:
        destination = spec.destination_host_port()
        try:
            targets = await self.resolver.resolve(
                destination, transport=spec.transport_hint(), secure=spec.secure
            )
        except ResolutionError as exc:
            return self._fail(error=str(exc))
        targets = [t for t in targets if self.transport.can_reach(t.host)]
        hops = [(t.host, t.port) for t in targets]
        if first:
            allowed = set(await self.policy.first_hops(hops))
        else:  # a redirect: the peer chose it
            allowed = set(await self.policy.redirect_hops(hops))
        if targets and not allowed:
            return self._fail(error=f"{destination}: refused by the dial policy")
        targets = [t for t in targets if (t.host, t.port) in allowed][: self.max_targets]
        if not targets:
            return self._fail(error=f"no reachable address for {destination}")
        return self.dead_targets.order(targets)

    def _redirect_spec(self, spec: CallSpec, response: SipResponse) -> CallSpec | None:
        """The call re-aimed at the best Contact of a 3xx, or None (not followed)."""
        if not 300 <= response.status_code < 400 or self._cancel_requested:
            return None
        best: tuple[float, SipUri] | None = None
        for value in response.headers.get_list("contact"):
            try:
                contact = parse_name_addr(value)
            except SipParseError:
                continue
            if contact.uri.scheme != "sip":
                continue
            q_text = contact.params.get("q") or "1"
            try:
                q = float(q_text) if len(q_text) <= 5 and q_text.isascii() else 0.0
            except ValueError:
                q = 0.0
            if best is None or q > best[0]:
                best = (q, contact.uri)
        if best is None:
            return None
        uri = best[1]
        target = SipUri(scheme="sip", user=uri.user, host=uri.host, port=uri.port)
        redirected = dataclasses.replace(
            spec,
            request_uri=str(target),
            destination=format_host_port(uri.host, uri.port),
            to_uri=spec.to_uri or spec.request_uri,
        )
        try:
            redirected.validate()
        except SipError:
            return None
        if self.redirect_check is not None and not self.redirect_check(redirected):
            log.info("call %s: redirect to %s refused", self.call_id, target)
            return None
        return redirected

    async def _invite_targets(
        self, spec: CallSpec, targets: list[Target]
    ) -> CallEvent | SipResponse:
        """INVITE each address in turn; the final response that ends the search (to be
        handled by the caller), or the call's outcome when none came. On one address: a
        401/407 is answered with credentials and a 422 with its Min-SE (new CSeq each)."""
        errors: list[str] = []
        pending = list(targets)
        udp_only: set[Target] = set()  # TCP refused after a size switch: UDP it is
        while pending:
            target = pending.pop(0)
            last = not pending
            retried_422 = False
            auth_rounds = 0
            self._cseq += 1
            switched = target not in udp_only and self._too_big_for_udp(
                target, self._invite_for(spec, target, self._cseq)
            )
            if switched:
                target = target.with_transport(TCP)  # RFC 3261 section 18.1.1
            self.destination = target
            while True:
                try:
                    final = await self._run_invite(spec, target, self._cseq)
                except TransactionTimeout as exc:
                    assert self._txn is not None
                    if self._txn.received_response or self._cancel_requested:
                        return self._cancelled(reason=self._cancel_note, error=str(exc))
                    if auth_rounds:
                        return self._fail(error=f"no answer to the authenticated INVITE: {exc}")
                    self.dead_targets.mark(target)
                    self.target_attempts.append(TargetAttempt(str(target), 0, str(exc)))
                    errors.append(str(exc))
                    break
                except TransportError as exc:
                    if auth_rounds:
                        return self._fail(error=f"{target}: {exc}")
                    self.dead_targets.mark(target)
                    self.target_attempts.append(TargetAttempt(str(target), 0, str(exc)))
                    errors.append(f"{target}: {exc}")
                    if switched:
                        # the carrier may not speak TCP: retry over UDP (section 18.1.1)
                        SIP_TRANSPORT_SWITCHES.labels("tcp_failed").inc()
                        udp_only.add(target.with_transport(UDP))
                        pending.insert(0, target.with_transport(UDP))
                    break
                self.target_attempts.append(
                    TargetAttempt(str(target), final.status_code, final.reason)
                )
                if switched:
                    switched = False
                    SIP_TRANSPORT_SWITCHES.labels("tcp_used").inc()
                if final.status_code in AUTH_CHALLENGES:
                    problem = await self._learn_challenge(final, signed=bool(self._invite_auth))
                    auth_rounds += 1
                    if problem is None and auth_rounds > MAX_AUTH_ROUNDS:
                        problem = "still challenged after a signed retry"
                    if problem is not None:
                        return self._fail(final.status_code, final.reason, problem)
                    if self._cancel_requested:
                        # Nothing to cancel any more: the challenged INVITE is complete.
                        return self._cancelled(final.status_code, final.reason, self._cancel_note)
                    # The new INVITE has heard nothing yet: a CANCEL waits for its 1xx.
                    self.state = CallState.CALLING
                    self._cseq += 1
                    continue
                min_se = read_min_se(final) if final.status_code == 422 else None
                if min_se is not None and not retried_422 and not self._cancel_requested:
                    # RFC 4028 section 7.4: again, with an interval the server accepts
                    retried_422 = True
                    self._min_se = min_se
                    self.session_expires = max(self.session_expires, min_se)
                    self._cseq += 1
                    continue
                if final.status_code == 503 and not self._cancel_requested:
                    # RFC 3263 section 4.3: the next address of the same server set; RFC
                    # 3261 section 21.5.4: Retry-After says how long this one stays unused
                    wait = retry_after_seconds(final.headers.get("retry-after"))
                    self.dead_targets.mark(target, wait if wait is not None else DEFAULT_DEAD_FOR)
                    if not last:
                        errors.append(f"{target}: 503 {final.reason}")
                        break
                return final
        return self._fail(error="; ".join(errors))

    def _watch_first_response(self, txn: InviteClientTransaction) -> asyncio.TimerHandle | None:
        """Give up on a target that sends nothing at all (not even 100) within
        `provisional_timeout`: waiting for Timer B (32 s) would eat the ring timeout."""
        if self.provisional_timeout <= 0:
            return None

        def expire() -> None:
            if not txn.received_response and not self._cancel_requested:
                txn.abandon(
                    f"no response to INVITE from {txn.destination[0]}:{txn.destination[1]} "
                    f"within {self.provisional_timeout:g}s"
                )

        return asyncio.get_running_loop().call_later(self.provisional_timeout, expire)

    async def _run_invite(self, spec: CallSpec, target: Target, cseq: int) -> SipResponse:
        """One INVITE transaction (CSeq `cseq`, new branch, credentials when we hold any)."""
        request = self._invite_for(spec, target, cseq)
        self.invite_request = request
        txn = InviteClientTransaction(
            self.transport,
            request,
            target,
            timers=self.timers,
            on_provisional=self._on_provisional,
        )
        self._txn = txn
        silence = self._watch_first_response(txn)
        try:
            return await txn.run()
        finally:
            if silence is not None:
                silence.cancel()

    async def _learn_challenge(self, response: SipResponse, *, signed: bool) -> str | None:
        """Why this 401/407 cannot be answered, or None: the next request is signed."""
        problem = await self._challenge_problem(response, signed=signed)
        auth_metrics.count(response.cseq_method or "", problem, no_credentials=NO_CREDENTIALS)
        return problem

    async def _challenge_problem(self, response: SipResponse, *, signed: bool) -> str | None:
        proxy = response.status_code == 407
        header = PROXY_AUTHENTICATE if proxy else WWW_AUTHENTICATE
        challenges = parse_challenges(response.headers.get_all(header), proxy=proxy)
        if self._digest is None:
            credentials = None
            if self._credentials_source is not None:
                try:
                    credentials = await self._credentials_source()
                except Exception as exc:  # the lookup is someone else's I/O
                    return f"could not fetch the provider's credentials: {exc}"
            if credentials is None:
                return NO_CREDENTIALS
            self._digest = DigestSession(credentials)
        return self._digest.learn(challenges, signed=signed)

    def _invite_for(self, spec: CallSpec, target: Target, cseq: int) -> SipRequest:
        """The INVITE to `target`: our addresses and transport for it in Via, Contact and
        SDP, a new branch, our options (100rel, session timer), and credentials when we
        hold any."""
        assert self.rtp is not None
        self._local_sdp = build_offer(
            self._media_address(target), self.rtp.local_port, session_id=self._session_id
        ).encode()
        stack_headers = [
            ("Supported", "100rel, timer"),
            ("Session-Expires", str(self.session_expires)),
        ]
        if self._min_se is not None:
            stack_headers.append(("Min-SE", str(self._min_se)))
        request = build_invite(
            spec,
            sent_by=self.transport.sent_by_for(target),
            contact_host=self.transport.contact_for(target),
            call_id=self.call_id,
            from_tag=self.local_tag,
            branch=new_branch(),
            cseq=cseq,
            sdp=self._local_sdp,
            transport=target.transport,
            stack_headers=stack_headers,
        )
        self._invite_auth = (
            self._digest.headers("INVITE", request.uri) if self._digest is not None else []
        )
        for name, value in self._invite_auth:
            request.headers.add(name, value)
        return request

    def _too_big_for_udp(self, target: Target, request: SipRequest) -> bool:
        """Only when nobody chose the transport: a carrier set to udp gets udp."""
        return (
            target.transport == UDP
            and self.spec.transport_hint() is None
            and len(request.to_bytes()) > self.transport.max_udp_request
        )

    def _media_address(self, target: Target | None) -> str:
        """What SDP c=/o= say: never the wildcard the RTP socket may be bound to."""
        if self.media_public_host:
            return self.media_public_host
        if not is_wildcard(self.media_host):
            return self.media_host
        return self.transport.advertised_host_for(target)

    def _on_provisional(self, response: SipResponse) -> None:
        if self.state is CallState.CALLING:
            self.state = CallState.PROCEEDING
        if response.status_code > 100 and "100rel" in header_tokens(response, "require"):
            self._prack(response)
        sdp, media = self._read_sdp(response)
        if sdp is not None:
            self._early_sdp = sdp
            self._start_media(media)  # early media: latch and keep the path open
        self._emit(
            CallEvent(
                CallEventKind.PROGRESS,
                status_code=response.status_code,
                reason=response.reason,
                sdp=sdp,
                remote_media=media,
                to_tag=response.to_tag,
            )
        )
        if self._cancel_requested and not self._cancel_sent:
            self._send_cancel()

    def _prack(self, response: SipResponse) -> None:
        """RFC 3262: acknowledge a reliable provisional response, once per RSeq."""
        assert self.invite_request is not None
        try:
            rseq = parse_uint((response.headers.get("rseq") or "").strip(), "RSeq", MAX_CSEQ, 1)
            early = Dialog.from_response(self.invite_request, response)
        except SipParseError as exc:
            log.info("call %s: reliable %d unusable: %s", self.call_id, response.status_code, exc)
            return
        last = self._rseq_seen.get(early.remote_tag)
        if last is not None and rseq <= last:
            return  # a retransmission: the PRACK transaction already retransmits itself
        self._rseq_seen[early.remote_tag] = rseq
        self._cseq += 1
        rack = [("RAck", f"{rseq} {self.invite_request.cseq[0]} INVITE")]
        self._spawn(self._send_prack(early, self._cseq, rack))

    async def _send_prack(self, early: Dialog, cseq: int, rack: list[tuple[str, str]]) -> None:
        response = await self._send_in_dialog(early, "PRACK", cseq, rack)
        if response is not None and not response.is_success:
            log.info("call %s: PRACK answered %d", self.call_id, response.status_code)

    async def _send_in_dialog(
        self,
        dialog: Dialog,
        method: str,
        cseq: int | None = None,
        extra_headers: list[tuple[str, str]] | None = None,
    ) -> SipResponse | None:
        destination = await self._next_hop(dialog)
        request = self._in_dialog_request(dialog, method, destination, cseq, extra_headers)
        txn = NonInviteClientTransaction(self.transport, request, destination, timers=self.timers)
        try:
            return await txn.run()
        except SipError as exc:
            log.info("call %s: %s failed: %s", self.call_id, method, exc)
            return None

    async def _on_final(self, response: SipResponse) -> CallEvent:
        self._stop_answer_timer()
        if self._cancel_timer is not None:
            self._cancel_timer.cancel()
        if response.status_code >= 300:
            if self._cancel_sent and response.status_code == 487:
                return self._cancelled(response.status_code, response.reason, self._cancel_note)
            return self._fail(response.status_code, response.reason)
        assert self.invite_request is not None
        try:
            dialog = Dialog.from_response(self.invite_request, response)
        except SipParseError as exc:
            return self._fail(response.status_code, response.reason, f"unusable 2xx: {exc}")
        dialog.local_cseq = max(dialog.local_cseq, self._cseq)  # PRACKs used numbers too
        self.dialog = dialog
        await self._ack_2xx(dialog)
        refused = await self._refused_remote(dialog)
        if refused is not None:
            # ACKed (via the INVITE's own address): now end it there too, never following
            # the peer to an address the policy refuses.
            await self._send_bye(dialog)
            return self._fail(response.status_code, response.reason, refused)
        if not self._cancel_requested:
            problem = self._answer_problem(response)
            if problem is not None:
                # RFC 3261 section 13.2.2.4: a 2xx is always ACKed; then the session is ended
                await self._send_bye(dialog)
                return self._fail(response.status_code, response.reason, f"unusable 2xx: {problem}")
        if self._cancel_requested:
            # the 200 crossed our CANCEL: the call exists now, so end it properly
            await self._send_bye(dialog)
            note = self._cancel_note or "answered while being cancelled; ACKed and BYEd"
            return self._cancelled(response.status_code, response.reason, note)
        sdp, media = self._read_sdp(response)
        if media is None and self._early_sdp is not None:
            with contextlib.suppress(SipParseError):
                media = parse_sdp(self._early_sdp)
        self.remote_media = media
        self.state = CallState.ANSWERED
        self.answered_at = time.monotonic()
        if self.destination is not None and self.destination.reliable:
            # the carrier's BYE may come over this connection, however long the call lasts
            self._pinned = self.destination
            self.transport.pin(self.destination)
        self._start_media(media)
        self._start_session_timer(read_session_expires(response), response)
        if self.rtp is not None and self.rtp_timeout > 0:
            self.rtp.watch(self.rtp_timeout, self._on_media_timeout)
            self._expect_media(media)
        event = CallEvent(
            CallEventKind.ANSWERED,
            status_code=response.status_code,
            reason=response.reason,
            sdp=sdp,
            remote_media=media,
            to_tag=response.to_tag,
        )
        self._emit(event)
        return event

    def _answer_problem(self, response: SipResponse) -> str | None:
        """Why a 2xx cannot carry the call (RFC 3264: the answer is in it or a reliable 1xx)."""
        if response.body and response.content_type in (None, "application/sdp"):
            try:
                media = parse_sdp(response.body.decode(errors="replace"))
            except SipParseError as exc:
                return str(exc)
        elif self._early_sdp is not None:
            try:
                media = parse_sdp(self._early_sdp)
            except SipParseError as exc:
                return str(exc)
        else:
            return "no SDP answer"
        if media.port == 0:
            return "audio stream rejected (port 0)"
        if media.codec is None:
            return "no codec in common"
        if not self.transport.can_reach(media.address):
            return f"media address {media.address} of another address family"
        return None

    def _read_sdp(self, response: SipResponse) -> tuple[str | None, MediaDescription | None]:
        if not response.body or response.content_type not in (None, "application/sdp"):
            return None, None
        text = response.body.decode(errors="replace")
        try:
            return text, parse_sdp(text)
        except SipParseError as exc:
            log.info("call %s: unreadable SDP: %s", self.call_id, exc)
            return text, None

    # -- cancel ------------------------------------------------------------------------------

    def _request_cancel(self, note: str | None) -> None:
        if self._cancel_requested or self.state not in (CallState.CALLING, CallState.PROCEEDING):
            return
        self._cancel_requested = True
        self._cancel_note = note
        if self.state is CallState.PROCEEDING:
            self._send_cancel()
        # in CALLING the first provisional sends it (see _on_provisional)

    def _send_cancel(self) -> None:
        assert self.invite_request is not None and self.destination is not None
        self._cancel_sent = True
        cancel = build_cancel(self.invite_request)
        txn = NonInviteClientTransaction(
            self.transport, cancel, self.destination, timers=self.timers
        )
        self._spawn(self._run_quietly(txn))
        # RFC 3261 section 9.1: no final response within 64*T1 of the CANCEL -> give up
        self._cancel_timer = asyncio.get_running_loop().call_later(
            64 * self.timers.t1, self._on_cancel_timeout
        )

    def _on_cancel_timeout(self) -> None:
        if self._txn is not None:
            self._txn.abandon("no final response to the cancelled INVITE within 64*T1")

    async def _run_quietly(self, txn: NonInviteClientTransaction) -> None:
        try:
            response = await txn.run()
            log.debug("call %s: %s answered %d", self.call_id, txn.method, response.status_code)
        except SipError as exc:
            log.info("call %s: %s failed: %s", self.call_id, txn.method, exc)

    # -- in-dialog requests we send ----------------------------------------------------------

    async def _refused_remote(self, dialog: Dialog) -> str | None:
        """Why the dialog's Contact or a Record-Route points where the policy refuses."""
        if self.policy is OPEN_POLICY:
            return None  # nothing is refused: spare the lookups
        uris = [dialog.remote_target]
        for route in dialog.route_set:
            try:
                uris.append(parse_name_addr(route).uri)
            except SipParseError:
                return f"unreadable Record-Route {route!r}"
        for uri in uris:
            try:
                targets = await self.resolver.resolve_uri(uri)
            except ResolutionError:
                continue  # nothing to send to; _next_hop falls back to the INVITE's address
            for target in targets:
                if not self.policy.allows_signalling(target.host, target.port):
                    return f"remote target {uri} ({target}) refused by the dial policy"
        return None

    async def _next_hop(self, dialog: Dialog) -> Target:
        """Where in-dialog requests go. The carrier's own address without a transport of
        its own means the connection the INVITE went over (TCP/TLS reuse)."""
        assert self.destination is not None
        uri: SipUri = dialog.next_hop()
        try:
            targets = await self.resolver.resolve_uri(uri, transport=self.spec.transport or None)
        except ResolutionError as exc:
            log.warning("call %s: next hop %s: %s; using the INVITE's", self.call_id, uri, exc)
            targets = []
        reachable = [
            t
            for t in targets
            if self.transport.can_reach(t.host) and self.policy.allows_signalling(t.host, t.port)
        ]
        if not reachable:
            return self.destination
        hop = reachable[0]
        if hop.address == self.destination.address and uri.param("transport") is None:
            return self.destination
        return hop

    def _in_dialog_request(
        self,
        dialog: Dialog,
        method: str,
        hop: Target,
        cseq: int | None = None,
        extra_headers: list[tuple[str, str]] | None = None,
    ) -> SipRequest:
        sent_by = self.transport.sent_by_for(hop)
        return dialog.build_request(
            method, sent_by, cseq=cseq, extra_headers=extra_headers or (), transport=hop.transport
        )

    async def _ack_2xx(self, dialog: Dialog) -> None:
        assert self.invite_request is not None
        destination = await self._next_hop(dialog)
        # RFC 3261 section 13.2.2.4: the ACK carries the same credentials as the INVITE.
        ack = self._in_dialog_request(
            dialog, "ACK", destination, self.invite_request.cseq[0], self._invite_auth
        )
        self._ack = (ack.to_bytes(), destination)
        self._resend_ack()

    def _resend_ack(self) -> None:
        if self._ack is not None:
            with contextlib.suppress(TransportError):
                self.transport.send(*self._ack)

    async def _send_bye(self, dialog: Dialog) -> SipResponse | None:
        destination = await self._next_hop(dialog)
        for _ in range(MAX_AUTH_ROUNDS + 1):
            uri, _routes = dialog.request_uri_and_routes()
            auth = self._digest.headers("BYE", uri) if self._digest is not None else []
            bye = self._in_dialog_request(dialog, "BYE", destination, extra_headers=auth)
            txn = NonInviteClientTransaction(self.transport, bye, destination, timers=self.timers)
            try:
                response = await txn.run()
            except SipError as exc:
                log.info("call %s: BYE failed: %s", self.call_id, exc)
                return None
            if response.status_code not in AUTH_CHALLENGES:
                return response
            # Challenged: sign (CSeq+1 through the dialog) and send once more.
            problem = await self._learn_challenge(response, signed=bool(auth))
            if problem is not None:
                log.info("call %s: BYE challenged: %s", self.call_id, problem)
                return response
        return response

    async def _end_stray_dialog(self, response: SipResponse) -> None:
        """A 2xx from another fork (or after we gave up): ACK it, then BYE it."""
        assert self.invite_request is not None
        try:
            dialog = Dialog.from_response(self.invite_request, response)
        except SipParseError:
            return
        destination = await self._next_hop(dialog)
        ack = self._in_dialog_request(dialog, "ACK", destination, self.invite_request.cseq[0])
        with contextlib.suppress(TransportError):
            self.transport.send(ack.to_bytes(), destination)
        await self._send_bye(dialog)

    # -- DialogHandler: traffic the transport routes here by Call-ID -------------------------

    def on_stray_response(self, response: SipResponse, addr: Address) -> None:
        if response.cseq_method != "INVITE" or not response.is_success:
            return
        dialog = self.dialog
        if dialog is not None and response.to_tag == dialog.remote_tag:
            self._resend_ack()  # our ACK was lost: the carrier retransmits its 2xx
            return
        accepted = self._txn.final_response if self._txn is not None else None
        if dialog is None and accepted is not None and accepted.to_tag == response.to_tag:
            return  # a copy of the 2xx the invite task is about to ACK
        if self.invite_request is not None and response.to_tag:
            self._spawn(self._end_stray_dialog(response))

    def on_request(self, request: SipRequest, addr: Address) -> None:
        method = request.method
        branch = request.branch or ""
        if method == "ACK":
            timer = self._reinvite_timers.pop(request.cseq[0], None)
            if timer is not None:
                timer.cancel()
            return
        cached = self._answered_requests.get((branch, method))
        if cached is not None:
            self._send(cached, addr)  # a retransmitted request gets the same answer
            return
        dialog = self.dialog
        if dialog is None or not dialog.matches_request(request):
            self._answer(request, addr, 481, "Call/Transaction Does Not Exist")
            return
        cseq = request.cseq[0]
        if dialog.remote_cseq is not None and cseq < dialog.remote_cseq:
            self._answer(request, addr, 500, "Server Internal Error")  # section 12.2.2
            return
        dialog.remote_cseq = cseq
        if method == "BYE":
            self._answer(request, addr, 200, "OK")
            if self.state is CallState.ANSWERED:
                self.state = CallState.ENDED
                self._stop_media()
                self._emit(
                    CallEvent(
                        CallEventKind.REMOTE_HANGUP,
                        reason=request.headers.get("reason"),
                    )
                )
        elif method in ("INVITE", "UPDATE"):
            self._answer_session_change(request, addr)
        elif method in ("OPTIONS", "INFO", "NOTIFY"):
            self._answer(request, addr, 200, "OK")
        else:
            self._answer(request, addr, 501, "Not Implemented")

    def _answer(
        self,
        request: SipRequest,
        addr: Address,
        code: int,
        reason: str,
        *,
        body: bytes = b"",
        extra_headers: list[tuple[str, str]] | None = None,
    ) -> bytes:
        contact = contact_uri(None, self.transport.contact_for(addr), addr.transport)
        extra = [("Contact", f"<{contact}>")] if code < 300 else []
        extra += extra_headers or []
        if body:
            extra.append(("Content-Type", "application/sdp"))
        if request.method in ("OPTIONS",) or code == 405:
            extra.append(("Allow", ALLOW))
        response = build_response(
            request,
            code,
            reason,
            to_tag=self.local_tag,
            extra_headers=extra,
            body=body,
        )
        data = response.to_bytes()
        if len(self._answered_requests) >= MAX_ANSWERED_REQUESTS:
            self._answered_requests.pop(next(iter(self._answered_requests)))  # the oldest
        self._answered_requests[(request.branch or "", request.method)] = data
        self._send(data, addr)
        return data

    def _answer_session_change(self, request: SipRequest, addr: Address) -> None:
        """re-INVITE or UPDATE: a target refresh, and an offer answered per RFC 3264."""
        dialog = self.dialog
        assert dialog is not None
        contacts = request.headers.get_list("contact")
        if contacts:
            try:
                dialog.remote_target = parse_name_addr(contacts[0]).uri  # section 12.2.2
            except SipParseError:
                self._answer(request, addr, 400, "Bad Contact")
                return
        body = b""
        if request.body and request.content_type in (None, "application/sdp"):
            try:
                offer = parse_sdp(request.body.decode(errors="replace"))
            except SipParseError as exc:
                log.info("call %s: unusable offer: %s", self.call_id, exc)
                self._answer(request, addr, 488, "Not Acceptable Here")
                return
            if offer.codec is None and offer.port != 0:
                self._answer(request, addr, 488, "Not Acceptable Here")
                return
            body = self._apply_offer(offer)
        elif request.method == "INVITE":
            body = self._local_sdp  # an offerless re-INVITE: we offer, the ACK answers
        timer_headers = self._peer_refreshed(request) if self.state is CallState.ANSWERED else []
        data = self._answer(request, addr, 200, "OK", body=body, extra_headers=timer_headers)
        if request.method == "INVITE":
            self._retransmit_until_ack(request, addr, data)

    def _apply_offer(self, offer: MediaDescription) -> bytes:
        """Answer `offer` (direction mirrored, codec kept) and point our media at it."""
        current = self.rtp.codec if self.rtp is not None else None
        if current is not None and current.payload_type in offer.payload_types:
            offer = dataclasses.replace(offer, codec=current)  # keep the session's codec
        self._direction = MIRRORED_DIRECTION[offer.direction]
        self.remote_media = offer
        assert self.rtp is not None
        if offer.port == 0:
            self.rtp.stop()
        else:
            self._start_media(offer)
            if self.rtp.active:
                self.rtp.set_sending(
                    self.send_rtp
                    and offer.direction in ("sendrecv", "recvonly")
                    and self._direction in ("sendrecv", "sendonly")
                    and self.policy.allows_media(*offer.rtp_address)
                )
            if self.rtp_timeout > 0:
                self._expect_media(offer)
        self._sdp_version += 1
        return build_answer(
            self._media_address(self.destination),
            0 if offer.port == 0 else self.rtp.local_port,
            session_id=self._session_id,
            version=self._sdp_version,
            codec=offer.codec,
            telephone_event_pt=offer.telephone_event_pt,
            direction=self._direction,
        ).encode()

    def _retransmit_until_ack(self, request: SipRequest, addr: Address, data: bytes) -> None:
        """Our 2xx to a re-INVITE goes out again until the ACK; none in 64*T1: BYE."""
        cseq = request.cseq[0]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 64 * self.timers.t1

        def retransmit(interval: float) -> None:
            if cseq not in self._reinvite_timers:
                return
            if loop.time() >= deadline:
                self._reinvite_timers.pop(cseq, None)
                # RFC 3261 section 14.2: a 2xx never ACKed ends the session
                self._spawn(self._end_answered("unacked_2xx", "no ACK for our 2xx to a re-INVITE"))
                return
            self._send(data, addr)
            nxt = min(interval * 2, self.timers.t2)
            self._reinvite_timers[cseq] = loop.call_later(nxt, retransmit, nxt)

        self._reinvite_timers[cseq] = loop.call_later(self.timers.t1, retransmit, self.timers.t1)

    def _send(self, data: bytes, addr: Address) -> None:
        with contextlib.suppress(TransportError):
            self.transport.send(data, addr)

    # -- session timers (RFC 4028) ----------------------------------------------------------

    def _start_session_timer(self, timer: SessionTimer | None, message: SipMessage) -> None:
        if self._session_timer is not None:
            self._session_timer.cancel()
            self._session_timer = None
        self.session_timer = timer
        if timer is None or self.state is not CallState.ANSWERED:
            return
        if "update" in header_tokens(message, "allow"):
            self._peer_allows_update = True
        loop = asyncio.get_running_loop()
        if timer.refresher == "uac":
            self._session_timer = loop.call_later(timer.refresh_after, self._refresh_due)
        else:
            self._session_timer = loop.call_later(timer.expire_after, self._session_expired)

    def _refresh_due(self) -> None:
        self._spawn(self._refresh_session())

    def _session_expired(self) -> None:
        timer = self.session_timer
        note = f"no session refresh within {timer.interval if timer else 0}s (RFC 4028)"
        self._spawn(self._end_answered("session_expired", note))

    async def _refresh_session(self) -> None:
        """Refresh as the refresher: UPDATE without a body when allowed, else re-INVITE
        with our current SDP; 408/481 or no answer ends the call (RFC 4028 section 10)."""
        dialog, timer = self.dialog, self.session_timer
        if dialog is None or timer is None or self.state is not CallState.ANSWERED:
            return
        headers = [("Supported", "timer"), ("Session-Expires", timer.header())]
        if self._peer_allows_update:
            response = await self._send_in_dialog(dialog, "UPDATE", extra_headers=headers)
        else:
            response = await self._reinvite(dialog, headers)
        if self.state is not CallState.ANSWERED:
            return
        if response is None or response.status_code in (408, 481):
            code = response.status_code if response is not None else "no response"
            await self._end_answered("session_refresh_failed", f"session refresh: {code}")
            return
        self.session_refreshes += 1
        if response.is_success:
            self._start_session_timer(read_session_expires(response) or timer, response)
        else:  # refused for another reason: the session stays, try again later
            self._start_session_timer(timer, response)

    async def _reinvite(self, dialog: Dialog, headers: list[tuple[str, str]]) -> SipResponse | None:
        destination = await self._next_hop(dialog)
        contact = contact_uri(None, self.transport.contact_for(destination), destination.transport)
        request = dialog.build_request(
            "INVITE",
            self.transport.sent_by_for(destination),
            extra_headers=[("Contact", f"<{contact}>"), *headers],
            body=self._local_sdp,
            content_type="application/sdp",
            transport=destination.transport,
        )
        txn = InviteClientTransaction(self.transport, request, destination, timers=self.timers)
        try:
            response = await txn.run()
        except SipError as exc:
            log.info("call %s: re-INVITE failed: %s", self.call_id, exc)
            return None
        if response.is_success:
            ack = self._in_dialog_request(dialog, "ACK", destination, request.cseq[0])
            self._send(ack.to_bytes(), destination)
        return response

    def _peer_refreshed(self, request: SipRequest) -> list[tuple[str, str]]:
        """A refresh from the carrier restarts our expiry; the headers our 2xx carries."""
        timer = read_session_expires(request)
        if timer is None:
            return []
        # Their request names the refresher from their side: uac there is them, uas us.
        ours = SessionTimer(timer.interval, "uas" if timer.refresher == "uac" else "uac")
        self._start_session_timer(ours, request)
        return [("Require", "timer"), ("Session-Expires", timer.header())]

    # -- media -------------------------------------------------------------------------------

    def _start_media(self, media: MediaDescription | None) -> None:
        if self.rtp is None or media is None or not media.usable:
            return
        assert media.codec is not None
        if not self.transport.can_reach(media.address):
            return
        # they will not listen when they only send (hold) or are inactive
        send = self.send_rtp and media.direction in ("sendrecv", "recvonly")
        send = send and self._direction in ("sendrecv", "sendonly")
        rtp_host, rtp_port = media.rtp_address
        if send and not self.policy.allows_media(rtp_host, rtp_port):
            log.warning("call %s: RTP to %s:%s refused by policy", self.call_id, rtp_host, rtp_port)
            send = False
        try:
            self.rtp.start(
                media.rtp_address, media.codec, self._ticker or default_ticker(), send=send
            )
        except ValueError as exc:  # parse_sdp bounds ports; this is the last line
            log.warning("call %s: media not started: %s", self.call_id, exc)

    def _expect_media(self, media: MediaDescription | None) -> None:
        """Liveness counts only while the peer is meant to send (not on hold)."""
        if self.rtp is not None:
            sending = media is not None and media.direction in ("sendrecv", "sendonly")
            self.rtp.expect(sending and media is not None and media.port != 0)

    def _on_media_timeout(self) -> None:
        if self.state is CallState.ANSWERED:
            note = f"no RTP for {self.rtp_timeout:g}s"
            self._spawn(self._end_answered("rtp_timeout", note))

    async def _end_answered(self, cause: str, note: str) -> None:
        """BYE an answered call on our own initiative (not an order from the caller)."""
        if self.state is not CallState.ANSWERED or self.dialog is None:
            return
        log.info("call %s: ending: %s", self.call_id, note)
        self.state = CallState.ENDED
        self._stop_media()
        response = await self._send_bye(self.dialog)
        self._emit(
            CallEvent(
                CallEventKind.LOCAL_HANGUP,
                status_code=response.status_code if response else None,
                reason=response.reason if response else None,
                error=note,
                cause=cause,
            )
        )

    def _stop_media(self) -> None:
        if self.rtp is not None:
            self.rtp.stop()

    # -- bookkeeping -------------------------------------------------------------------------

    def _fail(
        self, status_code: int | None = None, reason: str | None = None, error: str | None = None
    ) -> CallEvent:
        self.state = CallState.FAILED
        event = CallEvent(CallEventKind.FAILED, status_code, reason, error=error)
        self._emit(event)
        return event

    def _cancelled(
        self, status_code: int | None = None, reason: str | None = None, error: str | None = None
    ) -> CallEvent:
        self.state = CallState.CANCELLED
        event = CallEvent(CallEventKind.CANCELLED, status_code, reason, error=error)
        self._emit(event)
        return event

    def _emit(self, event: CallEvent) -> None:
        self.history.append(event)
        self._queue.put_nowait(event)
        if event.kind in (CallEventKind.ANSWERED, CallEventKind.FAILED, CallEventKind.CANCELLED):
            if self.outcome is None:
                self.outcome = event
            self._setup_done.set()
        if event.terminal:
            self._setup_done.set()
            self._ended.set()
            self._stop_answer_timer()
            self._linger()
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                log.exception("call %s: on_event callback failed", self.call_id)

    def _stop_answer_timer(self) -> None:
        if self._answer_timer is not None:
            self._answer_timer.cancel()
            self._answer_timer = None

    def _linger(self) -> None:
        """Stay reachable for 64*T1 to answer retransmitted BYEs and re-ACK late 2xx."""
        if self.rtp is not None:
            self.rtp.close()
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_later(64 * self.timers.t1, self._release)

    def _release(self) -> None:
        if self._session_timer is not None:
            self._session_timer.cancel()
            self._session_timer = None
        if self.rtp is not None:
            self.rtp.close()
        for timer in self._reinvite_timers.values():
            timer.cancel()
        self._reinvite_timers.clear()
        if self._cancel_timer is not None:
            self._cancel_timer.cancel()
        self._stop_answer_timer()
        if self._registered:
            self._registered = False
            self.transport.unregister_dialog(self.call_id)
        if self._pinned is not None:
            self.transport.unpin(self._pinned)
            self._pinned = None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
