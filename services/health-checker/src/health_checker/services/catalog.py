"""Knowing the providers: provider-manager's events keep the target table current, and a
resync over RPC (at start, then every HEALTH_CHECK_RESYNC_INTERVAL by whichever replica
holds the "resync" lease) heals whatever events were missed. provider-manager's tables are
never read.

Records carry provider-manager's tm_update, and a target only takes a record at least as new
as the one it has, so an event and a resync page racing each other cannot roll a hostname
back. Deleted providers leave a tombstone, so no late event brings them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from shared.clients import ProviderManagerClient
from shared.events import Event
from shared.rpc import RpcClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.metrics import RESYNCS, FailureGauge
from health_checker.records import ProviderRecord, newest_per_provider, provider_record
from health_checker.repositories.leases import LeaseRepository
from health_checker.repositories.registrations import RegistrationRepository
from health_checker.repositories.targets import TargetRepository, prune

log = structlog.get_logger("health.catalog")

PROVIDER_EVENTS = frozenset({"provider_created", "provider_updated", "provider_deleted"})
RESYNC_LEASE = "resync"
PAGE_SIZE = 100
MAX_RETRY_DELAY = 30.0


class ProbeTrigger(Protocol):
    def probe_soon(self, provider_id: str) -> None: ...

    def wake(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ResyncStats:
    listed: int
    due: int
    removed: int


class ProviderCatalog:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rpc: RpcClient,
        provider_queue: str,
        trigger: ProbeTrigger,
        failures: FailureGauge,
        *,
        replica: str,
        resync_interval: float,
        rpc_timeout: float,
        on_registrations: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._provider_manager = ProviderManagerClient(rpc, provider_queue, rpc_timeout)
        self._trigger = trigger
        self._failures = failures
        self._replica = replica
        self.resync_interval = resync_interval
        self._on_registrations = on_registrations
        self._task: asyncio.Task[None] | None = None
        self._need_resync = False
        self.resyncs = 0

    # -- events ------------------------------------------------------------------------------

    async def apply_event(self, event: Event, session: AsyncSession) -> None:
        """EventSubscriber handler; runs in the subscriber's transaction."""
        record = _record_of(event)
        if record is None:
            return
        repo = TargetRepository(session)
        if event.type == "provider_deleted" or record.deleted:
            await repo.tombstone([record])
            record = dataclasses.replace(record, deleted=True)
        else:
            await repo.upsert([record])
        # Registrations follow the same records (issue 9): register, refresh, unregister.
        await RegistrationRepository(session).apply([record])

    def after_commit(self, event: Event) -> None:
        record = _record_of(event)
        if record is None:
            return
        if self._on_registrations is not None:
            self._on_registrations()
        if event.type == "provider_deleted" or record.deleted:
            self._failures.forget(record.provider_id)
        else:
            # Probes only if the change made it due (created, or a new hostname).
            self._trigger.probe_soon(record.provider_id)

    # -- resync ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Resync once (failures are retried in the background), then keep resyncing."""
        try:
            async with self._sessions() as session, session.begin():
                await LeaseRepository(session).acquire(
                    RESYNC_LEASE, self._replica, self.resync_interval, force=True
                )
            await self.resync()
        except Exception as exc:
            self._resync_failed(exc)
        self._task = asyncio.create_task(self._periodic(), name="health-resync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def resync(self) -> ResyncStats:
        """Page through provider-manager's providers and make the target table match."""
        async with self._sessions() as session:
            listed_from = await TargetRepository(session).db_now()
        seen: list[str] = []
        complete = True
        due = 0
        token = ""
        while True:
            page = await self._provider_manager.list_providers(str(PAGE_SIZE), token)
            records, usable = _page_records(page)
            complete = complete and usable
            seen += [r.provider_id for r in records]
            active = newest_per_provider([r for r in records if not r.deleted])
            async with self._sessions() as session, session.begin():
                due += len(await TargetRepository(session).upsert(active))
                await RegistrationRepository(session).apply(active)
            token = str(page.get("next_page_token") or "")
            # Every non-empty page carries a token; a short page is the last one.
            if not token or len(page.get("result") or []) < PAGE_SIZE:
                break
        # An unreadable record could be any provider: then delete nothing this time.
        removed = await self._remove_unseen(seen, listed_from) if complete else []
        if due:
            self._trigger.wake()
        self.resyncs += 1
        RESYNCS.labels("ok").inc()
        stats = ResyncStats(listed=len(seen), due=due, removed=len(removed))
        log.info("resynced", listed=stats.listed, due=stats.due, removed=stats.removed)
        return stats

    async def _remove_unseen(self, seen: list[str], listed_from: datetime) -> list[str]:
        async with self._sessions() as session, session.begin():
            removed = await TargetRepository(session).tombstone_unseen(seen, listed_from)
            await RegistrationRepository(session).forget(removed)
            await prune(session)
        for provider_id in removed:
            self._failures.forget(provider_id)
        return removed

    def _resync_failed(self, exc: Exception) -> None:
        RESYNCS.labels("failed").inc()
        self._need_resync = True
        log.warning("resync_failed", error=f"{exc.__class__.__name__}: {exc}")

    async def _periodic(self) -> None:
        check_every = max(0.5, min(self.resync_interval / 4, 30.0))
        retry_delay = 1.0
        while True:
            await asyncio.sleep(retry_delay if self._need_resync else check_every)
            try:
                if not self._need_resync and not await self._take_lease():
                    continue
                await self.resync()
                self._need_resync = False
                retry_delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._resync_failed(exc)
                retry_delay = min(retry_delay * 2, MAX_RETRY_DELAY)

    async def _take_lease(self) -> bool:
        async with self._sessions() as session, session.begin():
            return await LeaseRepository(session).acquire(
                RESYNC_LEASE, self._replica, self.resync_interval
            )


def _record_of(event: Event) -> ProviderRecord | None:
    if event.type not in PROVIDER_EVENTS:
        return None
    try:
        return provider_record(event.data)
    except ValueError as exc:
        log.warning("provider_event_unusable", event_id=event.id, problem=str(exc))
        return None


def _page_records(page: Any) -> tuple[list[ProviderRecord], bool]:
    """The page's records, and whether every item was one."""
    if not isinstance(page, dict) or not isinstance(page.get("result"), list):
        raise ValueError("provider list reply has no result list")
    records: list[ProviderRecord] = []
    for item in page["result"]:
        try:
            records.append(provider_record(item))
        except ValueError as exc:
            log.warning("provider_record_unusable", problem=str(exc))
    return records, len(records) == len(page["result"])
