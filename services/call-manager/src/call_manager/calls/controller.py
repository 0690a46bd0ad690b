"""One coroutine per call: drives its SIP legs, its status and its timers.

Everything that can happen to a call (a 1xx, the answer, the end, a hangup order, a timer)
arrives in one inbox and is handled in order, so the status machine has no races of its
own. Persistence and groupcall coordination sit behind `CallObserver`.

A call has a list of candidate providers. While it is unanswered and nobody asked to end
it, an INVITE failure that `fails_over` (404, 408, 5xx, no response) starts a new leg (a new
Call-ID) through the next candidate; anything else, or an empty list, ends the call with
that leg's outcome. The ring timeout runs from the first INVITE, across failovers: it bounds
how long a caller waits, whichever carriers fail on the way. Each leg is an `Attempt`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from shared.ids import NIL_UUID

from call_manager import provider_stats as stats
from call_manager.calls import states
from call_manager.calls.actions import run_actions
from call_manager.calls.attempts import Attempt
from call_manager.calls.failover import fails_over
from call_manager.calls.states import CallEnd, EndCause
from call_manager.dialing.candidates import Candidates
from call_manager.dialing.leg import (
    CallLeg,
    Dialer,
    LegEndKind,
    LegEvent,
    LegEventKind,
)

log = structlog.get_logger("call.controller")


@dataclass(frozen=True, slots=True)
class CallTimers:
    ring_timeout: float = 60.0
    max_duration: float = 3600.0
    # How long a CANCEL or BYE may take before the call is closed regardless.
    ending_guard: float = 40.0


Wire = dict[str, Any]


class CallObserver(Protocol):
    async def moved(
        self,
        call_id: str,
        status: str,
        end: CallEnd | None,
        sip_status_code: int,
        attempts: list[Wire],
        dialog: Wire | None = None,
    ) -> None:
        """Persist a status change and the attempts so far (and emit its event); with the
        move to progressing, the dialog a survivor would need to BYE the call."""

    async def failed_over(
        self, call_id: str, provider_id: str, sip_status_code: int, attempts: list[Wire]
    ) -> None:
        """Persist a new attempt through `provider_id` (and emit call_updated)."""

    async def answered(self, call_id: str) -> None: ...

    async def ended(self, call_id: str, end: CallEnd, answered: bool) -> None: ...


class _Hangup:
    """An order to end the call (API, inline action, groupcall answered elsewhere)."""


_HANGUP = _Hangup()


class CallController:
    def __init__(
        self,
        call_id: str,
        candidates: Candidates,
        dialer: Dialer,
        observer: CallObserver,
        timers: CallTimers,
        *,
        actions: Sequence[dict[str, Any]] = (),
        flow_id: str = NIL_UUID,
        created_at: datetime | None = None,
    ) -> None:
        """`created_at`: when the call row was made; its first attempt starts then (the row
        already shows that attempt)."""
        self.call_id = call_id
        self.candidates = candidates
        self.attempts: list[Attempt] = []
        self._next_candidate = 0
        self._created_at = created_at
        self.status = states.DIALING
        self.answered = False
        self._dialer = dialer
        self._observer = observer
        self._timers = timers
        self._actions = list(actions)
        self._flow_id = flow_id
        self._inbox: asyncio.Queue[LegEvent | _Hangup] = asyncio.Queue()
        self._leg: CallLeg | None = None
        self._intent: EndCause | None = None
        self._last_code = 0
        self._post_answer: asyncio.Task[None] | None = None
        self._dialog: Wire | None = None  # stored with the move to progressing
        self.end: CallEnd | None = None
        # Set once the call is ending (canceling/terminating persisted) or over.
        self.ending = asyncio.Event()

    def request_hangup(self) -> None:
        """Thread-unsafe but loop-safe: may be called from any task of this loop."""
        self._inbox.put_nowait(_HANGUP)

    def abandon(self) -> None:
        if self._leg is not None:
            self._leg.abandon()

    async def run(self) -> CallEnd:
        try:
            end = await self._drive()
        finally:
            if self._post_answer is not None:
                self._post_answer.cancel()
        self.end = end
        await self._move(states.HANGUP, end)
        self.ending.set()
        await self._observer.ended(self.call_id, end, self.answered)
        return end

    async def _drive(self) -> CallEnd:
        if not self.candidates.items:
            return CallEnd(EndCause.UNREACHABLE, detail=self.candidates.problem)
        loop = asyncio.get_running_loop()
        leg = self._dial(loop, self._created_at)
        deadline = loop.time() + self._timers.ring_timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    item = await self._inbox.get()
            except TimeoutError:
                if self.status in (states.CANCELING, states.TERMINATING):
                    # The carrier never completed our CANCEL/BYE: close the books anyway.
                    leg.abandon()
                    self._close_attempt(None, loop)
                    return CallEnd(self._intent or EndCause.UNREACHABLE, self._last_code)
                self._intent = (
                    EndCause.MAX_DURATION
                    if self.status == states.PROGRESSING
                    else EndCause.RING_TIMEOUT
                )
                await self._start_ending()
                deadline = loop.time() + self._timers.ending_guard
                continue
            if isinstance(item, _Hangup):
                if self._intent is None and self.status not in (
                    states.CANCELING,
                    states.TERMINATING,
                ):
                    self._intent = (
                        EndCause.LOCAL_BYE
                        if self.status == states.PROGRESSING
                        else EndCause.CANCELED
                    )
                    await self._start_ending()
                    deadline = loop.time() + self._timers.ending_guard
                continue
            if item.kind is LegEventKind.PROVISIONAL:
                self._last_code = item.status_code
                self._provisional(loop)
                if self.status == states.DIALING:
                    await self._move(states.RINGING)
            elif item.kind is LegEventKind.ANSWERED:
                self._last_code = item.status_code or 200
                if self.status in (states.DIALING, states.RINGING):
                    self.answered = True
                    self._dialog = item.dialog
                    self.attempts[-1].targets = list(item.targets)
                    self._answer(item, loop)
                    await self._move(states.PROGRESSING)
                    await self._observer.answered(self.call_id)
                    self._after_answer()
                    deadline = loop.time() + self._timers.max_duration
                # a 200 crossing our CANCEL: the leg ACKs and BYEs it and then reports ENDED
            else:
                if item.status_code:
                    self._last_code = item.status_code
                if self._may_fail_over(item):
                    leg = await self._fail_over(item, loop)
                    continue
                end = self._ended(item)
                self._close_attempt(item, loop)
                return end

    # -- attempts -------------------------------------------------------------------------

    def _dial(self, loop: asyncio.AbstractEventLoop, at: datetime | None = None) -> CallLeg:
        candidate = self.candidates.items[self._next_candidate]
        self._next_candidate += 1
        attempt = Attempt.begin(candidate, at)
        attempt.invited_at = loop.time()
        self.attempts.append(attempt)
        leg = self._dialer.dial(candidate.spec, self._inbox.put_nowait)
        self._leg = leg  # orders (cancel, BYE, abandon) go to the newest leg
        attempt.sip_call_id = leg.sip_call_id
        stats.attempt_started(candidate.provider_id)
        return leg

    def _may_fail_over(self, event: LegEvent) -> bool:
        return (
            self._intent is None
            and not self.answered
            and self.status in (states.DIALING, states.RINGING)
            and self._next_candidate < len(self.candidates.items)
            and event.end is not None
            and fails_over(event.end, event.status_code)
        )

    async def _fail_over(self, event: LegEvent, loop: asyncio.AbstractEventLoop) -> CallLeg:
        failed = self.attempts[-1]
        self._close_attempt(event, loop)
        leg = self._dial(loop)  # the new INVITE goes out before we write anything
        nxt = self.attempts[-1]
        log.info(
            "call_failed_over",
            call_id=self.call_id,
            failed_provider=failed.provider_id,
            sip_status_code=event.status_code,
            provider_id=nxt.provider_id,
        )
        try:
            await self._observer.failed_over(
                self.call_id, nxt.provider_id, event.status_code, self._attempts_wire()
            )
        except Exception:
            log.exception("call_failover_persist_failed", call_id=self.call_id)
        # The next attempt's own codes decide the call from here.
        self._last_code = 0
        return leg

    def _provisional(self, loop: asyncio.AbstractEventLoop) -> None:
        attempt = self.attempts[-1]
        if attempt.progress_at is None and attempt.answered_at is None:
            attempt.progress_at = loop.time()
            stats.post_dial_delay(attempt.provider_id, attempt.progress_at - attempt.invited_at)

    def _answer(self, event: LegEvent, loop: asyncio.AbstractEventLoop) -> None:
        attempt = self.attempts[-1]
        attempt.sip_status_code = event.status_code or 200
        attempt.sip_reason = event.detail
        attempt.answered_at = loop.time()
        stats.attempt_answered(attempt.provider_id)
        if attempt.progress_at is None:
            stats.post_dial_delay(attempt.provider_id, attempt.answered_at - attempt.invited_at)

    def _close_attempt(self, event: LegEvent | None, loop: asyncio.AbstractEventLoop) -> None:
        """End the current attempt; `event` None: we gave up waiting for our CANCEL/BYE."""
        if not self.attempts or not self.attempts[-1].open:
            return
        attempt = self.attempts[-1]
        if event is not None and event.targets:
            attempt.targets = list(event.targets)
        code = event.status_code if event is not None else 0
        reason = event.detail if event is not None else "no final response to our CANCEL/BYE"
        attempt.close(code, reason)
        if attempt.answered_at is not None:
            stats.call_duration(attempt.provider_id, loop.time() - attempt.answered_at)
            return
        ours = self._intent is not None and (event is None or code == 487)
        kind = event.end if event is not None else None
        stats.attempt_failed(attempt.provider_id, stats.failure_label(kind, code, ours))

    def _attempts_wire(self) -> list[Wire]:
        return [attempt.wire() for attempt in self.attempts]

    async def _start_ending(self) -> None:
        assert self._leg is not None
        if self.status == states.PROGRESSING:
            await self._move(states.TERMINATING)
            self._leg.hangup()
        elif self.status in (states.DIALING, states.RINGING):
            await self._move(states.CANCELING)
            self._leg.cancel()
        self.ending.set()

    def _ended(self, event: LegEvent) -> CallEnd:
        kind, code, intent = event.end, event.status_code or self._last_code, self._intent
        if kind is LegEndKind.REJECTED:
            if code == 487 and intent in (EndCause.CANCELED, EndCause.RING_TIMEOUT):
                return CallEnd(intent, code, event.detail)
            return CallEnd(EndCause.REJECTED, code, event.detail)
        if kind is LegEndKind.CANCELED:
            return CallEnd(intent or EndCause.CANCELED, code, event.detail)
        if kind is LegEndKind.REMOTE_BYE:
            # A BYE crossing ours still means we had decided to end it.
            if intent in (EndCause.LOCAL_BYE, EndCause.MAX_DURATION):
                return CallEnd(intent, code, event.detail)
            return CallEnd(EndCause.REMOTE_BYE, code, event.detail)
        if kind is LegEndKind.LOCAL_BYE:
            return CallEnd(intent or EndCause.LOCAL_BYE, code, event.detail)
        if kind is LegEndKind.MEDIA_TIMEOUT:
            return CallEnd(intent or EndCause.RTP_TIMEOUT, code, event.detail)
        if kind is LegEndKind.SESSION_EXPIRED:
            return CallEnd(intent or EndCause.SESSION_EXPIRED, code, event.detail)
        if self.answered and intent is not None:
            return CallEnd(intent, code, event.detail)  # our BYE got no answer: still ours
        return CallEnd(EndCause.UNREACHABLE, code, event.detail)

    def _after_answer(self) -> None:
        if self._actions:
            self._post_answer = asyncio.create_task(
                run_actions(self._actions, self.request_hangup), name=f"actions:{self.call_id}"
            )
        elif self._flow_id == NIL_UUID:
            # No flow, no actions: the answer proved the trunk; do not keep the line open.
            self.request_hangup()

    async def _move(self, status: str, end: CallEnd | None = None) -> None:
        if not states.can_move(self.status, status):
            return
        self.status = status
        extra: dict[str, Any] = {}
        if status == states.PROGRESSING and self._dialog is not None:
            extra["dialog"] = self._dialog
        try:
            await self._observer.moved(
                self.call_id, status, end, self._last_code, self._attempts_wire(), **extra
            )
        except Exception:
            # The wire state stays authoritative; a lost row update must not kill the call.
            log.exception("call_status_persist_failed", call_id=self.call_id, status=status)
