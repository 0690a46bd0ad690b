"""call-manager's CallController without SIP or a database: legs the test scripts (it emits
their events and reads what the controller ordered), the dialer that makes them, and an
observer that records what the controller reports (call-manager's unit tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from call_manager.calls.states import CallEnd
from call_manager.dialing.leg import InviteSpec, LegEndKind, LegEvent, LegEventKind, LegListener

# The reason phrase a scripted final response carries.
REASONS = {503: "Service Unavailable"}


@dataclass
class ScriptedLeg:
    listener: LegListener
    sip_call_id: str
    orders: list[str] = field(default_factory=list)
    ordered: asyncio.Event = field(default_factory=asyncio.Event)

    def emit(self, kind: LegEventKind, code: int = 0, end: LegEndKind | None = None) -> None:
        self.listener(LegEvent(kind, code, end, REASONS.get(code, "")))

    async def first_order(self) -> str:
        """What the controller ordered first (cancel, bye, abandon), once it has."""
        async with asyncio.timeout(2):
            await self.ordered.wait()
        return self.orders[0]

    def _order(self, what: str) -> None:
        self.orders.append(what)
        self.ordered.set()

    def cancel(self) -> None:
        self._order("cancel")

    def hangup(self) -> None:
        self._order("bye")

    def abandon(self) -> None:
        self._order("abandon")


@dataclass
class ScriptedDialer:
    legs: list[ScriptedLeg] = field(default_factory=list)
    request_uris: list[str] = field(default_factory=list)
    dialed: asyncio.Event = field(default_factory=asyncio.Event)

    def problem(self, spec: InviteSpec) -> str | None:
        return None

    def dial(self, spec: InviteSpec, listener: LegListener) -> ScriptedLeg:
        leg = ScriptedLeg(listener, f"sip-call-{len(self.legs) + 1}")
        self.legs.append(leg)
        self.request_uris.append(spec.request_uri)
        self.dialed.set()
        return leg

    async def leg(self, number: int) -> ScriptedLeg:
        """The `number`th leg dialed (from 1), once it is."""
        async with asyncio.timeout(2):
            while len(self.legs) < number:
                self.dialed.clear()
                await self.dialed.wait()
        return self.legs[number - 1]


@dataclass
class CallRecorder:
    """The controller's observer: every status move (with its end cause), failover and end."""

    moves: list[tuple[str, str]] = field(default_factory=list)
    ends: list[CallEnd] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    failovers: list[tuple[str, int]] = field(default_factory=list)

    @property
    def statuses(self) -> list[str]:
        return [status for status, _ in self.moves]

    async def moved(
        self,
        call_id: str,
        status: str,
        end: CallEnd | None,
        sip_status_code: int,
        attempts: list[dict[str, Any]],
        dialog: dict[str, Any] | None = None,
    ) -> None:
        self.moves.append((status, end.cause.value if end else ""))
        self.attempts = attempts

    async def failed_over(
        self, call_id: str, provider_id: str, sip_status_code: int, attempts: list[dict[str, Any]]
    ) -> None:
        self.failovers.append((provider_id, sip_status_code))
        self.attempts = attempts

    async def answered(self, call_id: str) -> None:
        return None

    async def ended(self, call_id: str, end: CallEnd, answered: bool) -> None:
        self.ends.append(end)
