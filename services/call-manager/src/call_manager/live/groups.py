"""Groupcall coordination on the replica that owns the groupcall.

ring_all: every address rings at once and the first answer hangs up the others. linear:
one address at a time, the next one dialed when the current call ends unanswered. The
coordinator decides; `LiveCalls` starts and hangs up the calls it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from shared.events import publishing
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.dialing.candidates import Candidates
from call_manager.events import add_events
from call_manager.models import call_wire, groupcall_wire
from call_manager.planning.plan import PlannedGroup
from call_manager.planning.template import CallTemplate, child_id
from call_manager.repositories.calls import CallRepository
from call_manager.repositories.groupcalls import GroupcallRepository

log = structlog.get_logger("call.groups")
Row = dict[str, Any]
StartCall = Callable[[Row, Candidates, CallTemplate, "GroupState | None"], None]
HangupCall = Callable[[str], None]


@dataclass
class GroupState:
    """A live groupcall on its owning replica."""

    plan: PlannedGroup
    live: set[str] = field(default_factory=set)
    answer_call_id: str | None = None
    dial_index: int = 0
    hanging_up: bool = False

    @property
    def id(self) -> str:
        return self.plan.id

    def next_call_id(self) -> str:
        return child_id(self.plan.id, str(self.dial_index))


class GroupCoordinator:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake: Callable[[], None],
        replica_id: str,
        start_call: StartCall,
        hangup_call: HangupCall,
    ) -> None:
        self._sessions = sessions
        self._wake = wake
        self._replica_id = replica_id
        self._start_call = start_call
        self._hangup_call = hangup_call
        self.groups: dict[str, GroupState] = {}
        self._group_of: dict[str, str] = {}

    def start(self, plan: PlannedGroup, first_rows: list[Row]) -> None:
        group = GroupState(plan)
        self.groups[plan.id] = group
        for index, row in enumerate(first_rows):
            # ring_all starts every address at once; linear only the first (dial_index 0).
            self._start_call(row, plan.candidates[index], plan.template, group)

    def joined(self, group: GroupState, call_id: str) -> None:
        group.live.add(call_id)
        self._group_of[call_id] = group.id

    async def hangup(self, groupcall_id: str) -> bool:
        group = self.groups.get(groupcall_id)
        if group is None:
            return False
        if not group.hanging_up:
            group.hanging_up = True
            await self._update(group.id, {"status": "hangingup"}, "groupcall_hangingup")
            for call_id in list(group.live):
                self._hangup_call(call_id)
        return True

    def stop_all(self) -> None:
        for group in self.groups.values():
            group.hanging_up = True

    async def answered(self, call_id: str) -> None:
        group = self.groups.get(self._group_of.get(call_id, ""))
        if group is None:
            return
        if group.answer_call_id is not None:
            # A second child answered in the same instant: it loses and is hung up.
            self._hangup_call(call_id)
            return
        group.answer_call_id = call_id
        await self._update(group.id, {"answer_call_id": call_id}, "groupcall_progressing")
        for other in group.live - {call_id}:
            self._hangup_call(other)

    async def ended(self, call_id: str, answered: bool) -> None:
        group = self.groups.get(self._group_of.pop(call_id, ""))
        if group is None:
            return
        group.live.discard(call_id)
        try:
            await self._after_child(group, answered)
        except Exception:
            log.exception("groupcall_update_failed", groupcall_id=group.id)

    async def _after_child(self, group: GroupState, answered: bool) -> None:
        more = group.dial_index + 1 < len(group.plan.addresses)
        if (
            group.plan.ring_method == "linear"
            and not answered
            and not group.hanging_up
            and group.answer_call_id is None
            and more
        ):
            group.dial_index += 1
            await self._dial_next(group)
            return
        if group.live:
            await self._update(group.id, {"call_count": len(group.live)}, None)
            return
        del self.groups[group.id]
        await self._update(group.id, {"status": "hangup", "call_count": 0}, "groupcall_hangup")

    async def _dial_next(self, group: GroupState) -> None:
        plan = group.plan
        call_id = group.next_call_id()
        candidates = plan.candidates[group.dial_index]
        row = plan.template.call_row(
            call_id,
            plan.addresses[group.dial_index],
            self._replica_id,
            plan.id,
            plan.owner,
            candidates=candidates,
        )
        async with publishing(self._sessions, self._wake) as session:
            await CallRepository(session).insert_many([row])
            groups = GroupcallRepository(session)
            current = await groups.find(plan.id, lock=True)
            call_ids = list(current["call_ids"]) if current is not None else []
            updated = await groups.update(
                plan.id,
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
        self._start_call(row, candidates, plan.template, group)

    async def _update(self, groupcall_id: str, values: dict[str, Any], event: str | None) -> None:
        async with publishing(self._sessions, self._wake) as session:
            row = await GroupcallRepository(session).update(groupcall_id, values)
            if event is not None:
                await add_events(session, [(event, groupcall_wire(row))])
