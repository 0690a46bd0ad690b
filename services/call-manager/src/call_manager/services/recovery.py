"""No call outlives the replica that held its dialog.

Every replica beats a heartbeat row. A reaper on every replica looks for replicas silent
for longer than `dead_after`, locks them (SKIP LOCKED, so one reaper does each), finishes
their unfinished calls and groupcalls as failed with their events, and removes them.
With the defaults (beat 5 s, dead after 30 s, reaper every 10 s) a dead replica's calls
are finished within about 45 s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.calls import states
from call_manager.calls.states import CallEnd, EndCause
from call_manager.events import add_events
from call_manager.models import call_wire, groupcall_wire
from call_manager.repositories.idempotency import IdempotencyRepository
from call_manager.repositories.replicas import ReplicaRepository
from call_manager.tables import calls, groupcalls, replicas

log = structlog.get_logger("call.recovery")
ORPHANED = CallEnd(EndCause.ORPHANED)
PURGE_INTERVAL = 600.0


async def finish_owned(session: AsyncSession, replica_id: str) -> int:
    """Finish every unfinished call and groupcall owned by `replica_id` (in the caller's
    transaction); returns how many calls were finished."""
    now = func.clock_timestamp()
    finished = (
        (
            await session.execute(
                update(calls)
                .where(calls.c.owner_replica == replica_id, calls.c.status != states.HANGUP)
                .values(
                    status=states.HANGUP,
                    hangup_by=states.hangup_by(ORPHANED),
                    hangup_reason=states.hangup_reason(ORPHANED),
                    tm_hangup=now,
                    tm_update=now,
                )
                .returning(*calls.c)
            )
        )
        .mappings()
        .all()
    )
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
    ) -> None:
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
        async with self._sessions() as session, session.begin():
            left = await finish_owned(session, self.replica_id)
            await ReplicaRepository(session).beat(self.replica_id)
        if left:
            log.warning("finished_calls_of_previous_run", calls=left)
            self._wake()
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
        async with self._sessions() as session, session.begin():
            left = await finish_owned(session, self.replica_id)
            await ReplicaRepository(session).remove(self.replica_id)
        if left:
            self._wake()

    async def beat(self) -> None:
        async with self._sessions() as session, session.begin():
            await ReplicaRepository(session).beat(self.replica_id)

    async def reap(self) -> int:
        total = 0
        async with self._sessions() as session, session.begin():
            repo = ReplicaRepository(session)
            for dead in await repo.lock_dead(self._dead_after, self.replica_id):
                count = await finish_owned(session, dead)
                await repo.remove(dead)
                log.warning("reaped_dead_replica", replica=dead, calls=count)
                total += count
        if total:
            self._wake()
        return total

    async def purge_keys(self) -> int:
        """Forget Idempotency-Keys older than CALL_MANAGER_IDEMPOTENCY_TTL."""
        async with self._sessions() as session, session.begin():
            return await IdempotencyRepository(session).purge(self._idempotency_ttl)

    async def finish_if_silent(self, replica_id: str) -> None:
        """Finish a replica's calls at once if it has missed two heartbeats."""
        silent = timedelta(seconds=2 * self._heartbeat_interval)
        async with self._sessions() as session, session.begin():
            beat = (
                await session.execute(
                    select(replicas.c.id).where(
                        replicas.c.id == replica_id,
                        replicas.c.heartbeat > func.clock_timestamp() - silent,
                    )
                )
            ).first()
            if beat is None:
                await finish_owned(session, replica_id)
        self._wake()

    async def _every(self, interval: float, job: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recovery_job_failed", job=getattr(job, "__name__", "?"))
