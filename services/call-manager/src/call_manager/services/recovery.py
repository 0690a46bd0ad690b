"""No call outlives the replica that held its dialog, on our books or the carrier's.

Every replica beats a heartbeat row. A reaper on every replica looks for replicas silent
for longer than `dead_after`, locks them (SKIP LOCKED, so one reaper does each), sends a BYE
for every answered call they held (from the stored dialog: `dialogs` table), finishes
their unfinished calls and groupcalls with their events (answered ones: hangup_by local,
hangup_reason failed, metadata.hangup_cause replica_lost; the rest orphaned), and removes
their heartbeat rows. With the defaults (beat 5 s, dead after 30 s, reaper every 10 s) every
carrier leg of a dead replica gets its BYE within about 41 s.

Fencing: a replica whose heartbeat UPDATE finds no row was reaped (it stalled, or lost the
database for longer than `dead_after`): a survivor has BYEd its calls, so it forgets every
dialog at once (`on_fenced`), and then beats again as a fresh member.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog
from shared.events import publishing
from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.calls import states
from call_manager.calls.states import CallEnd, EndCause
from call_manager.events import add_events
from call_manager.models import call_wire, groupcall_wire
from call_manager.repositories.calls import with_hangup_cause
from call_manager.repositories.dialogs import DialogRepository
from call_manager.repositories.idempotency import IdempotencyRepository
from call_manager.repositories.replicas import ReplicaRepository
from call_manager.tables import calls, groupcalls, replicas

log = structlog.get_logger("call.recovery")
ORPHANED = CallEnd(EndCause.ORPHANED)
REPLICA_LOST = CallEnd(EndCause.REPLICA_LOST)
# Given the stored dialogs of a dead replica's answered calls: BYE them (in the background).
EndDialogs = Callable[[Sequence[Mapping[str, Any]]], None]
PURGE_INTERVAL = 600.0


async def _finish_calls(
    session: AsyncSession, replica_id: str, end: CallEnd, only: Sequence[str] | None
) -> list[RowMapping]:
    now = func.clock_timestamp()
    query = update(calls).where(
        calls.c.owner_replica == replica_id, calls.c.status != states.HANGUP
    )
    if only is not None:
        query = query.where(calls.c.id.in_(only))
    result = await session.execute(
        query.values(
            status=states.HANGUP,
            hangup_by=states.hangup_by(end),
            hangup_reason=states.hangup_reason(end),
            metadata=with_hangup_cause(states.hangup_cause(end)),
            tm_hangup=now,
            tm_update=now,
        ).returning(*calls.c)
    )
    return list(result.mappings().all())


async def finish_owned(
    session: AsyncSession, replica_id: str, end_dialogs: EndDialogs | None = None
) -> int:
    """Finish every unfinished call and groupcall owned by `replica_id` (in the caller's
    transaction), BYEing its answered calls first when `end_dialogs` is given; returns how
    many calls were finished."""
    now = func.clock_timestamp()
    repo = DialogRepository(session)
    stored = await repo.of_live_calls(replica_id)
    finished: list[RowMapping] = []
    if stored and end_dialogs is not None:
        end_dialogs([dict(row) for row in stored])  # the BYEs go out while the rows finish
        lost = [str(row["call_id"]) for row in stored]
        finished += await _finish_calls(session, replica_id, REPLICA_LOST, lost)
    finished += await _finish_calls(session, replica_id, ORPHANED, None)
    await repo.remove_owned(replica_id)
    groups = (
        (
            await session.execute(
                update(groupcalls)
                .where(groupcalls.c.owner_replica == replica_id, groupcalls.c.status != "hangup")
                .values(status="hangup", call_count=0, tm_update=now)
                .returning(*groupcalls.c)
            )
        )
        .mappings()
        .all()
    )
    events: list[tuple[str, Any]] = [("call_hangup", call_wire(row)) for row in finished]
    events += [("groupcall_hangup", groupcall_wire(row)) for row in groups]
    await add_events(session, events)
    return len(finished)


class Recovery:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake: Callable[[], None],
        replica_id: str,
        heartbeat_interval: float,
        dead_after: float,
        reaper_interval: float,
        idempotency_ttl: float = 86400.0,
        *,
        end_dialogs: EndDialogs | None = None,
        on_fenced: Callable[[], int] | None = None,
    ) -> None:
        """`end_dialogs`: BYEs a dead replica's answered calls (None: no SIP here).
        `on_fenced`: drops this replica's dialogs when a survivor has taken them over."""
        self._end_dialogs = end_dialogs
        self._on_fenced = on_fenced
        self.fenced_count = 0
        self._sessions = sessions
        self._wake = wake
        self.replica_id = replica_id
        self._heartbeat_interval = heartbeat_interval
        self._dead_after = timedelta(seconds=dead_after)
        self._reaper_interval = reaper_interval
        self._idempotency_ttl = timedelta(seconds=idempotency_ttl)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        # A fixed replica id that restarts: whatever it owned died with its old process.
        async with publishing(self._sessions, self._wake) as session:
            left = await finish_owned(session, self.replica_id, self._end_dialogs)
            await ReplicaRepository(session).beat(self.replica_id)
        if left:
            log.warning("finished_calls_of_previous_run", calls=left)
        await self.reap()
        self._tasks = [
            asyncio.create_task(self._every(self._heartbeat_interval, self.beat), name="heartbeat"),
            asyncio.create_task(self._every(self._reaper_interval, self.reap), name="reaper"),
            asyncio.create_task(self._every(PURGE_INTERVAL, self.purge_keys), name="key-purge"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def leave(self) -> None:
        """Orderly exit: finish whatever is left of ours and drop our heartbeat row."""
        async with publishing(self._sessions, self._wake) as session:
            await finish_owned(session, self.replica_id)
            await ReplicaRepository(session).remove(self.replica_id)

    async def beat(self) -> None:
        async with self._sessions() as session, session.begin():
            repo = ReplicaRepository(session)
            if await repo.refresh(self.replica_id):
                return
            # Our row is gone: a survivor reaped us and has ended our calls. Forget them
            # before anything else of ours runs, then rejoin with a fresh row.
            dropped = self._on_fenced() if self._on_fenced is not None else 0
            self.fenced_count += 1
            log.error("replica_fenced", replica=self.replica_id, dialogs_dropped=dropped)
            await repo.beat(self.replica_id)

    async def reap(self) -> int:
        total = 0
        async with publishing(self._sessions, self._wake) as session:
            repo = ReplicaRepository(session)
            for dead in await repo.lock_dead(self._dead_after, self.replica_id):
                count = await finish_owned(session, dead, self._end_dialogs)
                await repo.remove(dead)
                log.warning("reaped_dead_replica", replica=dead, calls=count)
                total += count
        return total

    async def purge_keys(self) -> int:
        """Forget Idempotency-Keys older than CALL_MANAGER_IDEMPOTENCY_TTL."""
        async with self._sessions() as session, session.begin():
            return await IdempotencyRepository(session).purge(self._idempotency_ttl)

    async def finish_if_silent(self, replica_id: str) -> None:
        """Finish a replica's calls at once if it has missed two heartbeats."""
        silent = timedelta(seconds=2 * self._heartbeat_interval)
        async with publishing(self._sessions, self._wake) as session:
            beat = (
                await session.execute(
                    select(replicas.c.id).where(
                        replicas.c.id == replica_id,
                        replicas.c.heartbeat > func.clock_timestamp() - silent,
                    )
                )
            ).first()
            if beat is None:
                await finish_owned(session, replica_id, self._end_dialogs)

    async def _every(self, interval: float, job: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recovery_job_failed", job=getattr(job, "__name__", "?"))
