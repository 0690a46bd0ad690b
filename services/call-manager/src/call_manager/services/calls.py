"""Reading calls and groupcalls, and hanging them up wherever their dialog lives.

A hangup can reach any replica (competing consumers). The replica that owns the dialog acts
on it; any other forwards the order to the owner's own queue. An owner that no longer
answers is dead, and its call is finished here as orphaned (failed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from shared.clients import CallManagerClient
from shared.clients.call_manager import CallKind
from shared.errors import AppError, ErrorStatus
from shared.pagination import PageCursor
from shared.rpc import RpcClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.calls import states
from call_manager.live.registry import LiveCalls
from call_manager.models import call_wire, groupcall_wire
from call_manager.repositories.calls import CallRepository
from call_manager.repositories.groupcalls import GroupcallRepository
from call_manager.repositories.paging import page_reply
from call_manager.services.recovery import Recovery

log = structlog.get_logger("call.service")
Wire = dict[str, Any]
# The owner answers once it has started the CANCEL or BYE; a dead owner's queue is gone (503)
# at once, so this only bounds a live but stuck one.
FORWARD_TIMEOUT = 3.0


class CallService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        live: LiveCalls,
        rpc: RpcClient,
        replica_queue: Callable[[str], str],
        recovery: Recovery,
    ) -> None:
        self._sessions = sessions
        self._live = live
        self._rpc = rpc
        self._replica_queue = replica_queue
        self._recovery = recovery

    async def get_call(self, call_id: str, customer_id: str | None) -> Wire:
        async with self._sessions() as session:
            return call_wire(await CallRepository(session).get(call_id, customer_id))

    async def list_calls(
        self, page_size: int, cursor: PageCursor | None, customer_id: str | None
    ) -> Wire:
        async with self._sessions() as session:
            rows = await CallRepository(session).page(page_size, cursor, customer_id)
        return page_reply(rows, page_size, call_wire)

    async def get_groupcall(self, groupcall_id: str, customer_id: str | None) -> Wire:
        async with self._sessions() as session:
            return groupcall_wire(await GroupcallRepository(session).get(groupcall_id, customer_id))

    async def list_groupcalls(
        self, page_size: int, cursor: PageCursor | None, customer_id: str | None
    ) -> Wire:
        async with self._sessions() as session:
            rows = await GroupcallRepository(session).page(page_size, cursor, customer_id)
        return page_reply(rows, page_size, groupcall_wire)

    async def hangup_call(self, call_id: str, customer_id: str | None, forwarded: bool) -> Wire:
        call = await self.get_call(call_id, customer_id)
        if call["status"] == states.HANGUP:
            return call
        async with self._sessions() as session:
            owner = (await CallRepository(session).get(call_id))["owner_replica"]
        if owner == self._live.replica_id:
            await self._live.hangup_call(call_id)
        elif not forwarded:
            await self._forward(owner, "calls", call_id)
        return await self.get_call(call_id, None)

    async def hangup_groupcall(
        self, groupcall_id: str, customer_id: str | None, forwarded: bool
    ) -> Wire:
        group = await self.get_groupcall(groupcall_id, customer_id)
        if group["status"] == "hangup":
            return group
        async with self._sessions() as session:
            owner = (await GroupcallRepository(session).get(groupcall_id))["owner_replica"]
        if owner == self._live.replica_id:
            await self._live.hangup_group(groupcall_id)
        elif not forwarded:
            await self._forward(owner, "groupcalls", groupcall_id)
        return await self.get_groupcall(groupcall_id, None)

    async def _forward(self, owner: str, kind: CallKind, call_id: str) -> None:
        """Ask the replica holding the dialog (its own queue) to hang up."""
        owner_replica = CallManagerClient(self._rpc, self._replica_queue(owner))
        try:
            await owner_replica.hangup_call(kind, call_id, None, timeout=FORWARD_TIMEOUT)
        except AppError as err:
            if err.status is not ErrorStatus.UNAVAILABLE:
                raise
            # Nobody consumes the owner's queue: it is gone, and so is the dialog.
            log.warning("call_owner_gone", owner=owner, kind=kind, id=call_id)
            await self._recovery.finish_if_silent(owner)
