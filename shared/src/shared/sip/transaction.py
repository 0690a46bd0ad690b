"""Non-INVITE client transaction (RFC 3261 section 17.1.2).

Timers run as loop callbacks rather than tasks: thousands of concurrent probes then cost one
future and one timer handle each (the next of Timer E and Timer F). Over TCP/TLS nothing is
retransmitted (Timer E is not set, section 17.1.2.2) and a failed connection ends the
transaction at once (17.1.4).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.sip.errors import TransactionTimeout, TransportError
from shared.sip.ids import BRANCH_MAGIC
from shared.sip.message import SipRequest, SipResponse
from shared.sip.target import Destination, Target, as_target
from shared.sip.timers import DEFAULT_TIMERS, SipTimers
from shared.sip.transport import SipTransport

ProvisionalCallback = Callable[[SipResponse], None]


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request already in wire form with what its transaction needs to know of it: the
    probe path writes its OPTIONS straight to bytes instead of building a SipRequest and
    then reading its top Via back out of it."""

    method: str
    branch: str
    data: bytes


class NonInviteClientTransaction:
    """Send `request` to `destination`, retransmit per Timer E, finish on a final response.

    `timeout` is Timer F (default 64*T1). `await run()` returns the final response or raises
    TransactionTimeout (carrying the last provisional, if one came) or TransportError.
    """

    def __init__(
        self,
        transport: SipTransport,
        request: SipRequest | PreparedRequest,
        destination: Destination,
        *,
        timers: SipTimers = DEFAULT_TIMERS,
        timeout: float | None = None,
        on_provisional: ProvisionalCallback | None = None,
    ) -> None:
        if request.method in ("INVITE", "ACK"):
            raise ValueError(f"{request.method} does not use a non-INVITE transaction")
        branch = request.branch
        if branch is None or not branch.startswith(BRANCH_MAGIC):
            raise ValueError("request needs a top Via with an RFC 3261 branch")
        self.transport = transport
        self.destination = as_target(destination)
        self.branch = branch
        self.method = request.method
        self.timers = timers
        self.timeout = timers.timer_f if timeout is None else timeout
        self.on_provisional = on_provisional
        self.sent_count = 0
        self.started_at: float | None = None  # time.monotonic() of the first transmission
        self.first_response_at: float | None = None
        self.last_provisional: SipResponse | None = None
        self._data = request.data if isinstance(request, PreparedRequest) else request.to_bytes()
        self._future: asyncio.Future[SipResponse] | None = None
        self._interval = timers.t1
        # One timer handle at a time: the next of Timer E (retransmit) and Timer F (give up).
        # Most transactions end before Timer E, so a second handle per transaction was pure
        # cost (created, heap-pushed, cancelled) on the probe path.
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0  # loop.time() at which Timer F fires
        self._timer_is_f = False

    async def run(self) -> SipResponse:
        if self._future is not None:
            raise RuntimeError("a transaction runs once")
        loop = asyncio.get_running_loop()
        self._future = loop.create_future()
        self.transport.register_transaction(self.branch, self.method, self._on_response)
        self.transport.watch(self.destination, self._on_transport_error)
        try:
            self.started_at = time.monotonic()
            self._deadline = loop.time() + self.timeout
            self._transmit()
            self._arm(loop)
            return await self._future
        finally:
            self.transport.unwatch(self.destination, self._on_transport_error)
            if self._timer is not None:
                self._timer.cancel()
            # Timer K only absorbs retransmitted finals; unmatched responses are dropped anyway.
            self.transport.unregister_transaction(self.branch, self.method)

    def _transmit(self) -> None:
        self.transport.send(self._data, self.destination)
        self.sent_count += 1

    def _on_transport_error(self, error: TransportError) -> None:
        future = self._future
        if future is not None and not future.done():
            future.set_exception(error)

    def _on_response(self, response: SipResponse, addr: Target) -> None:
        future = self._future
        if future is None or future.done():
            return
        if self.first_response_at is None:
            self.first_response_at = time.monotonic()
        if response.status_code < 200:
            self.last_provisional = response
            if self.on_provisional is not None:
                self.on_provisional(response)
            return
        future.set_result(response)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        """Schedule the next timer: Timer E unless it would come at or after Timer F. Reliable
        transports never retransmit (section 17.1.2.2): only Timer F."""
        at = self._deadline
        if not self.destination.reliable:
            at = min(loop.time() + self._interval, self._deadline)
        self._timer_is_f = at >= self._deadline
        self._timer = loop.call_at(at, self._on_timer)

    def _on_timer(self) -> None:
        future = self._future
        if future is None or future.done():
            return
        if self._timer_is_f:
            future.set_exception(
                TransactionTimeout(
                    f"no final response to {self.method} from "
                    f"{self.destination} within {self.timeout:g}s",
                    self.last_provisional,
                )
            )
            return
        try:
            self._transmit()
        except TransportError as exc:
            future.set_exception(exc)
            return
        # Trying: double up to T2; Proceeding (a 1xx came): retransmit every T2.
        if self.last_provisional is None:
            self._interval = min(self._interval * 2, self.timers.t2)
        else:
            self._interval = self.timers.t2
        self._arm(asyncio.get_running_loop())
