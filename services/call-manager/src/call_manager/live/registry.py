"""The calls this replica holds: their controllers, and the persistence of everything they
report (status changes, failover attempts). It is the CallObserver of every controller it
starts; groupcall decisions go to the `GroupCoordinator`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from shared.events import publishing
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.calls import states
from call_manager.calls.controller import CallController, CallTimers
from call_manager.calls.states import CallEnd
from call_manager.dialing.candidates import Candidates
from call_manager.dialing.leg import Dialer
from call_manager.events import add_events
from call_manager.live.groups import GroupCoordinator, GroupState
from call_manager.models import call_wire
from call_manager.planning.plan import CallPlan
from call_manager.planning.template import CallTemplate
from call_manager.repositories.calls import CallRepository, with_hangup_cause
from call_manager.repositories.dialogs import DialogRepository

log = structlog.get_logger("call.live")


class LiveCalls:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake: Callable[[], None],
        dialer: Dialer,
        timers: CallTimers,
        replica_id: str,
    ) -> None:
        self._sessions = sessions
        self._wake = wake
        self._dialer = dialer
        self._timers = timers
        self.replica_id = replica_id
        self.controllers: dict[str, CallController] = {}
        self.groups = GroupCoordinator(
            sessions, wake, replica_id, self.start_call, self._request_hangup
        )
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- starting calls ------------------------------------------------------------------

    def start_plan(self, plan: CallPlan, template: CallTemplate) -> None:
        """Dial what was stored (after the commit: a call is never dialed unrecorded)."""
        for row, candidates in plan.lone:
            self.start_call(row, candidates, template)
        for group, first_rows in plan.groups:
            self.groups.start(group, first_rows)

    def start_call(
        self,
        row: dict[str, Any],
        candidates: Candidates,
        template: CallTemplate,
        group: GroupState | None = None,
    ) -> None:
        controller = CallController(
            row["id"],
            candidates,
            self._dialer,
            self,
            self._timers,
            actions=row.get("actions") or [],
            flow_id=row.get("flow_id") or template.flow_id,
            created_at=row["tm_create"],
        )
        self.controllers[row["id"]] = controller
        if group is not None:
            self.groups.joined(group, row["id"])
        self._spawn(controller.run(), f"call:{row['id']}")

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- orders ---------------------------------------------------------------------------

    def _request_hangup(self, call_id: str) -> None:
        controller = self.controllers.get(call_id)
        if controller is not None:
            controller.request_hangup()

    async def hangup_call(self, call_id: str, wait: float = 2.0) -> bool:
        """Start hanging up a call this replica holds; False when it holds no such call."""
        controller = self.controllers.get(call_id)
        if controller is None:
            return False
        controller.request_hangup()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await controller.ending.wait()
        return True

    async def hangup_group(self, groupcall_id: str) -> bool:
        return await self.groups.hangup(groupcall_id)

    def fence(self) -> int:
        """A survivor took our calls over (our heartbeat row was reaped): forget every
        dialog at once, without a word to the carriers or a row written. Returns how many."""
        dropped = list(self.controllers.values())
        self.groups.stop_all()
        self.groups.groups.clear()
        for controller in dropped:
            controller.abandon()
        self.controllers.clear()
        for task in list(self._tasks):
            task.cancel()
        return len(dropped)

    async def shutdown(self, grace: float) -> list[str]:
        """Hang up everything; returns the ids of calls still unfinished after `grace`."""
        self.groups.stop_all()
        for controller in list(self.controllers.values()):
            controller.request_hangup()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        left = list(self.controllers)
        for controller in list(self.controllers.values()):
            controller.abandon()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)
        return left

    # -- CallObserver -----------------------------------------------------------------

    async def moved(
        self,
        call_id: str,
        status: str,
        end: CallEnd | None,
        sip_status_code: int,
        attempts: list[dict[str, Any]],
        dialog: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"sip_status_code": sip_status_code, "attempts": attempts}
        if end is not None:
            values["hangup_by"] = states.hangup_by(end)
            values["hangup_reason"] = states.hangup_reason(end)
            values["metadata"] = with_hangup_cause(states.hangup_cause(end))
        async with publishing(self._sessions, self._wake) as session:
            row = await CallRepository(session).move(call_id, status, values)
            if row is not None:
                await add_events(session, [(states.event_type(status), call_wire(row))])
                if dialog is not None:
                    await DialogRepository(session).save(call_id, self.replica_id, dialog)
            if status == states.HANGUP:
                await DialogRepository(session).remove(call_id)

    async def failed_over(
        self, call_id: str, provider_id: str, sip_status_code: int, attempts: list[dict[str, Any]]
    ) -> None:
        values = {
            "provider_id": provider_id,
            "sip_status_code": sip_status_code,
            "attempts": attempts,
        }
        async with publishing(self._sessions, self._wake) as session:
            row = await CallRepository(session).update_live(call_id, values)
            if row is not None:
                await add_events(session, [("call_updated", call_wire(row))])

    async def answered(self, call_id: str) -> None:
        await self.groups.answered(call_id)

    async def ended(self, call_id: str, end: CallEnd, answered: bool) -> None:
        self.controllers.pop(call_id, None)
        await self.groups.ended(call_id, answered)
