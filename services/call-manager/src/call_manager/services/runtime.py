"""The calls this replica is dialing: their controllers, persistence of every status
change and failover, and groupcall coordination (ring_all hangs up the others on the first
answer; linear dials the next address when one ends unanswered).

It is the CallObserver of every controller it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.calls import states
from call_manager.calls.controller import CallController, CallTimers
from call_manager.calls.states import CallEnd
from call_manager.dialing.candidates import NIL_UUID, Candidates, DialCandidate
from call_manager.dialing.invite import InviteError, ProviderRoute, build_invite
from call_manager.dialing.leg import Dialer, InviteSpec
from call_manager.events import add_events
from call_manager.models import call_wire, groupcall_wire
from call_manager.repositories.calls import CallRepository
from call_manager.repositories.groupcalls import GroupcallRepository
from call_manager.services.plans import CallTemplate, GroupState

log = structlog.get_logger("call.runtime")


class CallRuntime:
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
        self.groups: dict[str, GroupState] = {}
        self._group_of: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- starting calls ------------------------------------------------------------------

    def invite_for(
        self, route: ProviderRoute, template: CallTemplate, destination: dict[str, Any]
    ) -> InviteSpec:
        """Raises InviteError when the provider's settings cannot form an INVITE."""
        spec = build_invite(route, template.source, destination, template.anonymous)
        problem = self._dialer.problem(spec)
        if problem:
            raise InviteError(problem)
        return spec

    def candidate(
        self,
        route: ProviderRoute,
        template: CallTemplate,
        destination: dict[str, Any],
        provider_id: str = NIL_UUID,
        route_id: str = NIL_UUID,
    ) -> DialCandidate:
        """Raises InviteError when the provider's settings cannot form an INVITE."""
        return DialCandidate(self.invite_for(route, template, destination), provider_id, route_id)

    def forced(
        self, route: ProviderRoute, template: CallTemplate, destination: dict[str, Any]
    ) -> Candidates:
        """The one candidate of a call forced through `template.provider_id`."""
        try:
            return Candidates((self.candidate(route, template, destination, template.provider_id),))
        except InviteError as exc:
            return Candidates(problem=str(exc))

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
            group.live.add(row["id"])
            self._group_of[row["id"]] = group.id
        self._spawn(controller.run(), f"call:{row['id']}")

    def start_group(self, group: GroupState, first_rows: list[dict[str, Any]]) -> None:
        self.groups[group.id] = group
        for index, row in enumerate(first_rows):
            # ring_all starts every address at once; linear only the first (dial_index 0).
            self.start_call(row, group.candidates[index], group.template, group)

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- orders ---------------------------------------------------------------------------

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
        group = self.groups.get(groupcall_id)
        if group is None:
            return False
        if not group.hanging_up:
            group.hanging_up = True
            await self._update_group(group.id, {"status": "hangingup"}, "groupcall_hangingup")
            for call_id in list(group.live):
                controller = self.controllers.get(call_id)
                if controller is not None:
                    controller.request_hangup()
        return True

    async def shutdown(self, grace: float) -> list[str]:
        """Hang up everything; returns the ids of calls still unfinished after `grace`."""
        for group in self.groups.values():
            group.hanging_up = True
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
    ) -> None:
        values: dict[str, Any] = {"sip_status_code": sip_status_code, "attempts": attempts}
        if end is not None:
            values["hangup_by"] = states.hangup_by(end)
            values["hangup_reason"] = states.hangup_reason(end)
        async with self._sessions() as session, session.begin():
            row = await CallRepository(session).move(call_id, status, values)
            if row is not None:
                await add_events(session, [(states.event_type(status), call_wire(row))])
        if row is not None:
            self._wake()

    async def failed_over(
        self, call_id: str, provider_id: str, sip_status_code: int, attempts: list[dict[str, Any]]
    ) -> None:
        values = {
            "provider_id": provider_id,
            "sip_status_code": sip_status_code,
            "attempts": attempts,
        }
        async with self._sessions() as session, session.begin():
            row = await CallRepository(session).update_live(call_id, values)
            if row is not None:
                await add_events(session, [("call_updated", call_wire(row))])
        if row is not None:
            self._wake()

    async def answered(self, call_id: str) -> None:
        group = self.groups.get(self._group_of.get(call_id, ""))
        if group is None:
            return
        if group.answer_call_id is not None:
            # A second child answered in the same instant: it loses and is hung up.
            self.controllers[call_id].request_hangup()
            return
        group.answer_call_id = call_id
        await self._update_group(group.id, {"answer_call_id": call_id}, "groupcall_progressing")
        for other in group.live - {call_id}:
            controller = self.controllers.get(other)
            if controller is not None:
                controller.request_hangup()

    async def ended(self, call_id: str, end: CallEnd, answered: bool) -> None:
        self.controllers.pop(call_id, None)
        group = self.groups.get(self._group_of.pop(call_id, ""))
        if group is None:
            return
        group.live.discard(call_id)
        try:
            await self._after_child(group, answered)
        except Exception:
            log.exception("groupcall_update_failed", groupcall_id=group.id)

    async def _after_child(self, group: GroupState, answered: bool) -> None:
        more = group.dial_index + 1 < len(group.addresses)
        if (
            group.ring_method == "linear"
            and not answered
            and not group.hanging_up
            and group.answer_call_id is None
            and more
        ):
            group.dial_index += 1
            await self._dial_next(group)
            return
        if group.live:
            await self._update_group(group.id, {"call_count": len(group.live)}, None)
            return
        del self.groups[group.id]
        await self._update_group(
            group.id, {"status": "hangup", "call_count": 0}, "groupcall_hangup"
        )

    async def _dial_next(self, group: GroupState) -> None:
        call_id = group.next_call_id()
        candidates = group.candidates[group.dial_index]
        row = group.template.call_row(
            call_id,
            group.addresses[group.dial_index],
            self.replica_id,
            group.id,
            group.owner,
            candidates=candidates,
        )
        async with self._sessions() as session, session.begin():
            await CallRepository(session).insert_many([row])
            groups = GroupcallRepository(session)
            current = await groups.find(group.id, lock=True)
            call_ids = list(current["call_ids"]) if current is not None else []
            updated = await groups.update(
                group.id,
                {
                    "call_ids": [*call_ids, call_id],
                    "dial_index": group.dial_index,
                    "call_count": len(group.live) + 1,
                },
            )
            wire = call_wire(row)
            events: list[tuple[str, Any]] = [("call_created", wire), ("call_dialing", wire)]
            events.append(("groupcall_updated", groupcall_wire(updated)))
            await add_events(session, events)
        self._wake()
        self.start_call(row, candidates, group.template, group)

    async def _update_group(
        self, groupcall_id: str, values: dict[str, Any], event: str | None
    ) -> None:
        async with self._sessions() as session, session.begin():
            row = await GroupcallRepository(session).update(groupcall_id, values)
            if event is not None:
                await add_events(session, [(event, groupcall_wire(row))])
        if event is not None:
            self._wake()
