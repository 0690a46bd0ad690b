"""INVITE client transaction (RFC 3261 section 17.1.1, with RFC 6026's view of 2xx).

Over TCP/TLS Timer A is not set and Timer D is zero (the transport is reliable); a failed
connection while no final response came ends the transaction with a TransportError.

- Calling: Timer A retransmits (T1, doubling) until any response; Timer B (64*T1) gives up.
- 1xx: handed to the caller (the call object), retransmissions stop.
- 300-699: the transaction ACKs it itself (same branch) and re-ACKs retransmissions of it
  for Timer D, then ends.
- 2xx: handed to the caller and the transaction ends at once; the dialog ACKs it and any
  retransmission of it (they reach the dialog by Call-ID once the transaction is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from enum import StrEnum

from shared.sip.errors import TransactionTimeout, TransportError
from shared.sip.ids import BRANCH_MAGIC
from shared.sip.message import Headers, SipRequest, SipResponse
from shared.sip.target import Destination, Target, as_target
from shared.sip.timers import DEFAULT_TIMERS, SipTimers
from shared.sip.transport import SipTransport

ResponseCallback = Callable[[SipResponse], None]


class InviteState(StrEnum):
    CALLING = "calling"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    TERMINATED = "terminated"


def build_non2xx_ack(invite: SipRequest, response: SipResponse) -> SipRequest:
    """RFC 3261 section 17.1.1.3: ACK for a non-2xx final, part of the INVITE transaction."""
    headers = Headers()
    vias = invite.headers.get_list("via")
    headers.add("Via", vias[0])
    headers.add("Max-Forwards", "70")
    headers.add("From", invite.headers.get("from") or "")
    headers.add("To", response.headers.get("to") or invite.headers.get("to") or "")
    headers.add("Call-ID", invite.call_id)
    headers.add("CSeq", f"{invite.cseq[0]} ACK")
    for route in invite.headers.get_all("route"):
        headers.add("Route", route)
    return SipRequest("ACK", invite.uri, headers)


def build_cancel(invite: SipRequest) -> SipRequest:
    """RFC 3261 section 9.1: same Request-URI, top Via (branch), Call-ID, From, To, Route."""
    headers = Headers()
    headers.add("Via", invite.headers.get_list("via")[0])
    headers.add("Max-Forwards", "70")
    headers.add("From", invite.headers.get("from") or "")
    headers.add("To", invite.headers.get("to") or "")
    headers.add("Call-ID", invite.call_id)
    headers.add("CSeq", f"{invite.cseq[0]} CANCEL")
    for route in invite.headers.get_all("route"):
        headers.add("Route", route)
    return SipRequest("CANCEL", invite.uri, headers)


class InviteClientTransaction:
    """`await run()` returns the first final response (or raises TransactionTimeout when
    nothing at all came back before Timer B, or TransportError). Provisionals and, after
    run() returned, nothing else reach `on_provisional`.
    """

    def __init__(
        self,
        transport: SipTransport,
        request: SipRequest,
        destination: Destination,
        *,
        timers: SipTimers = DEFAULT_TIMERS,
        on_provisional: ResponseCallback | None = None,
    ) -> None:
        if request.method != "INVITE":
            raise ValueError("InviteClientTransaction sends INVITE only")
        branch = request.branch
        if branch is None or not branch.startswith(BRANCH_MAGIC):
            raise ValueError("request needs a top Via with an RFC 3261 branch")
        self.transport = transport
        self.request = request
        self.destination = as_target(destination)
        self.branch = branch
        self.timers = timers
        self.on_provisional = on_provisional
        self.state = InviteState.CALLING
        self.sent_count = 0
        self.started_at: float | None = None
        self.first_response_at: float | None = None
        self.last_provisional: SipResponse | None = None
        self.final_response: SipResponse | None = None
        self._data = request.to_bytes()
        self._ack_data: bytes | None = None
        self._future: asyncio.Future[SipResponse] | None = None
        self._interval = timers.t1
        self._timer_a: asyncio.TimerHandle | None = None
        self._timer_b: asyncio.TimerHandle | None = None
        self._timer_d: asyncio.TimerHandle | None = None
        self._holds_slot = False

    @property
    def received_response(self) -> bool:
        return self.first_response_at is not None

    async def run(self) -> SipResponse:
        if self._future is not None:
            raise RuntimeError("a transaction runs once")
        loop = asyncio.get_running_loop()
        self._future = loop.create_future()
        # the in-flight cap covers the retransmitting phase only; ringing can last minutes
        await self.transport.in_flight.acquire()
        self._holds_slot = True
        self.transport.register_transaction(self.branch, "INVITE", self._on_response)
        self.transport.watch(self.destination, self._on_transport_error)
        try:
            self.started_at = time.monotonic()
            self._transmit()
            if not self.destination.reliable:
                self._timer_a = loop.call_later(self._interval, self._on_timer_a)
            self._timer_b = loop.call_later(self.timers.timer_b, self._on_timer_b)
            return await self._future
        except BaseException:
            self._terminate()
            raise
        finally:
            self._release_slot()

    def _release_slot(self) -> None:
        if self._holds_slot:
            self._holds_slot = False
            self.transport.in_flight.release()

    def _transmit(self) -> None:
        self.transport.send(self._data, self.destination)
        self.sent_count += 1

    def _stop_timers(self) -> None:
        for handle in (self._timer_a, self._timer_b):
            if handle is not None:
                handle.cancel()
        self._timer_a = self._timer_b = None

    def _terminate(self) -> None:
        self._stop_timers()
        if self._timer_d is not None:
            self._timer_d.cancel()
            self._timer_d = None
        self.state = InviteState.TERMINATED
        self.transport.unregister_transaction(self.branch, "INVITE")
        self.transport.unwatch(self.destination, self._on_transport_error)
        self._release_slot()

    def _on_transport_error(self, error: TransportError) -> None:
        future = self._future
        if (
            future is None
            or future.done()
            or self.state
            not in (
                InviteState.CALLING,
                InviteState.PROCEEDING,
            )
        ):
            return
        self._terminate()
        future.set_exception(error)

    def _on_response(self, response: SipResponse, addr: Target) -> None:
        future = self._future
        if future is None:
            return
        if self.first_response_at is None:
            self.first_response_at = time.monotonic()
            self._release_slot()
        code = response.status_code
        if self.state is InviteState.COMPLETED:
            # a retransmitted final: our ACK was lost, send it again
            if code >= 300 and self._ack_data is not None:
                self._send_ack()
            return
        if self.state is InviteState.TERMINATED or future.done():
            return
        if code < 200:
            self._stop_timers()  # no Timer B once the peer is known to be working on it
            self.state = InviteState.PROCEEDING
            self.last_provisional = response
            if self.on_provisional is not None:
                self.on_provisional(response)
            return
        self.final_response = response
        if code < 300:
            self._terminate()
            future.set_result(response)
            return
        self._stop_timers()
        self.state = InviteState.COMPLETED
        self._ack_data = build_non2xx_ack(self.request, response).to_bytes()
        self._send_ack()
        timer_d = 0.0 if self.destination.reliable else self.timers.timer_d
        self._timer_d = asyncio.get_running_loop().call_later(timer_d, self._terminate)
        future.set_result(response)

    def _send_ack(self) -> None:
        assert self._ack_data is not None
        # on failure the carrier retransmits its final response and we try again
        with contextlib.suppress(TransportError):
            self.transport.send(self._ack_data, self.destination)

    def abandon(self, reason: str) -> None:
        """Stop waiting for a final response (e.g. no 487 within 64*T1 of a CANCEL)."""
        future = self._future
        self._terminate()
        if future is not None and not future.done():
            future.set_exception(TransactionTimeout(reason, self.last_provisional))

    def _on_timer_a(self) -> None:
        future = self._future
        if future is None or future.done() or self.state is not InviteState.CALLING:
            return
        try:
            self._transmit()
        except TransportError as exc:
            self._terminate()
            future.set_exception(exc)
            return
        self._interval *= 2
        self._timer_a = asyncio.get_running_loop().call_later(self._interval, self._on_timer_a)

    def _on_timer_b(self) -> None:
        future = self._future
        if future is None or future.done() or self.state is not InviteState.CALLING:
            return
        self._terminate()
        future.set_exception(
            TransactionTimeout(
                f"no response to INVITE from {self.destination} "
                f"within {self.timers.timer_b:g}s (Timer B)"
            )
        )
