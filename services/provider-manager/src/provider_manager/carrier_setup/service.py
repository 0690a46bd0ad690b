"""One carrier setup end to end, and reading the setup journal.

    journal row (pending) + owner lock
    -> check key -> sweep interrupted setups -> profile -> connection -> IPs   (each journaled)
    -> provider row + provider_created + journal "done"                        (one transaction)
    on failure: delete what exists, children first (journal: rolled_back or cleanup_pending)

Budgets: the forward steps get `deadline`, compensation gets `rollback_deadline` of its own,
both under the gateway's 30 s RPC deadline, so a failed setup has been rolled back by the
time its caller hears about it. The API key lives only in the TelnyxClient of this request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from shared.contracts.providers import ProviderCreate
from shared.contracts.setup import ProviderSetupRequest
from shared.errors import AppError, ErrorStatus, invalid_argument
from shared.pagination import PageCursor, page_token
from shared.timefmt import render, utcnow
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from provider_manager.carrier_setup.cleanup import CleanupReport, remove_setup_resources
from provider_manager.carrier_setup.config import TELNYX_SIP_HOSTNAME, SetupConfig
from provider_manager.carrier_setup.errors import carrier_error, not_configured
from provider_manager.carrier_setup.journal import (
    FINISHED,
    UNFINISHED,
    SetupJournal,
    SetupRecord,
    SetupState,
)
from provider_manager.carrier_setup.owner_lock import OwnerLocks, held, owner_locks
from provider_manager.carrier_setup.saga import CarrierSaga
from provider_manager.carrier_setup.sweep import OrphanSweeper
from provider_manager.services.providers import ProviderService
from provider_manager.telnyx import TelnyxClient

log = structlog.get_logger("provider_manager.setup")

Wire = dict[str, Any]

STATE_FILTERS: dict[str, frozenset[SetupState] | None] = {
    "all": None,
    "unfinished": UNFINISHED,
    "finished": FINISHED,
    **{state.value: frozenset({state}) for state in SetupState},
}


def setup_wire(record: SetupRecord, in_progress: bool) -> Wire:
    return {
        "id": record.id,
        "provider_id": record.provider_id,
        "carrier": record.carrier,
        "name": record.name,
        "state": record.state.value,
        "in_progress": in_progress,
        "steps": record.steps,
        "resources": record.resources.model_dump(),
        "errors": record.errors,
        "cleanup": record.cleanup,
        "tm_create": render(record.tm_create),
        "tm_update": render(record.tm_update),
    }


class SetupService:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        providers: ProviderService,
        config: SetupConfig,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._providers = providers
        self._config = config
        self._journal = SetupJournal(sessions)
        self._sweeper = OrphanSweeper(self._journal, config.sweep_limit)

    # -- one setup -----------------------------------------------------------------------------

    async def setup(self, provider_id: str, request: ProviderSetupRequest) -> Wire:
        if not self._config.egress:
            raise not_configured()
        # Checked before any carrier call, so the last step cannot fail on validation.
        body = ProviderCreate(
            type="sip", hostname=TELNYX_SIP_HOSTNAME, name=request.name, detail=request.detail
        )
        earlier = await self._journal.for_provider(provider_id)
        if any(r.state is SetupState.DONE for r in earlier):
            # A redelivered request whose first delivery finished: answer the same provider.
            return await self._providers.get(provider_id)
        async with owner_locks(self._engine) as locks:
            async with self._sessions() as session:
                live = await held(session, [r.id for r in earlier if r.unfinished])
            if live:
                raise AppError(
                    ErrorStatus.FAILED_PRECONDITION,
                    "SETUP_IN_PROGRESS",
                    f"this request is already being carried out by setup {sorted(live)[0]}",
                )
            record = SetupRecord.new(provider_id, request.carrier, request.name)
            if not await locks.try_acquire(record.id):
                raise AppError(ErrorStatus.INTERNAL, "INTERNAL", "setup lock unavailable")
            await self._journal.open(record)
            structlog.contextvars.bind_contextvars(setup_id=record.id)
            log.info("provider_setup_started", provider_id=provider_id, carrier=record.carrier)
            async with self._client(request.credentials.api_key.get_secret_value()) as client:
                return await self._run(client, locks, record, body)

    def _client(self, api_key: str) -> TelnyxClient:
        return TelnyxClient(
            api_key,
            base_url=self._config.base_url,
            timeout=self._config.request_timeout,
            connect_timeout=self._config.connect_timeout,
            retry=self._config.retry,
        )

    async def _run(
        self, client: TelnyxClient, locks: OwnerLocks, record: SetupRecord, body: ProviderCreate
    ) -> Wire:
        saga = CarrierSaga(client, self._journal, record, self._config)
        try:
            async with asyncio.timeout(self._config.deadline):
                await saga.check_key()
                await self._sweep(client, locks, record)
                await saga.create_resources()
                saga.step = "provider"
                wire = await self._create_provider(record, body)
        except Exception as exc:
            error = exc if isinstance(exc, AppError) else None
            error = error or carrier_error(exc, saga.step, self._config.deadline)
            if error.status is ErrorStatus.INTERNAL:
                log.exception("provider_setup_crashed", step=saga.step)
            await self._compensate(client, record, saga.step, error)
            raise error from None
        log.info("provider_setup_done", provider_id=record.provider_id)
        return wire

    async def _sweep(self, client: TelnyxClient, locks: OwnerLocks, record: SetupRecord) -> None:
        """Best effort within its own budget: a failed sweep never fails the new setup."""
        try:
            async with asyncio.timeout(self._config.sweep_budget):
                swept = await self._sweeper.sweep(client, locks, record)
        except Exception:
            log.warning("provider_setup_sweep_failed", exc_info=True)
            record.note("orphans_swept", error="sweep failed or ran out of time")
            return
        if swept:
            record.note("orphans_swept", orphans=swept)
            await self._journal.save(record)

    async def _create_provider(self, record: SetupRecord, body: ProviderCreate) -> Wire:
        done = record.copy()
        done.state = SetupState.DONE
        done.note("provider_created", provider_id=record.provider_id)

        async def commit_done(session: AsyncSession, created: bool) -> None:
            if not created:
                raise AppError(
                    ErrorStatus.ALREADY_EXISTS,
                    "PROVIDER_EXISTS",
                    f"provider {record.provider_id} already exists",
                )
            await SetupJournal.save_in(session, done)

        wire = await self._providers.create(
            record.provider_id, body, done.resources.model_dump(), in_transaction=commit_done
        )
        record.state, record.steps = done.state, done.steps
        return wire

    async def _compensate(
        self, client: TelnyxClient, record: SetupRecord, step: str, error: AppError
    ) -> None:
        record.errors.append(
            {
                "at": render(utcnow()),
                "step": step,
                "status": error.status.value,
                "reason": error.reason,
                "message": error.message,
            }
        )
        report = CleanupReport()
        if record.creates_requested:
            record.note("rollback_started")
            try:
                async with asyncio.timeout(self._config.rollback_deadline):
                    await remove_setup_resources(client, record.tag, record.resources, report)
            except TimeoutError:
                log.warning("provider_setup_rollback_timed_out")
            record.add_cleanup(report.to_json(by="rollback"))
        else:
            report.finished = True  # nothing was requested from the carrier
        record.state = SetupState.ROLLED_BACK if report.complete else SetupState.CLEANUP_PENDING
        record.note(record.state.value)
        try:
            await self._journal.save(record)
        except Exception:
            log.exception("provider_setup_journal_write_failed", state=record.state.value)
        error.details = {
            **(error.details or {}),
            "setup_id": record.id,
            "cleanup": "complete" if report.complete else "pending",
        }
        log.warning(
            "provider_setup_failed",
            step=step,
            reason=error.reason,
            message=error.message,
            state=record.state.value,
            failed_deletes=report.failed,
        )

    # -- the journal ---------------------------------------------------------------------------

    async def get(self, setup_id: str) -> Wire:
        record = await self._journal.get(setup_id)
        async with self._sessions() as session:
            live = await held(session, [record.id])
        return setup_wire(record, record.id in live)

    async def list(
        self, state: str | None, page_size: int, cursor: PageCursor | None
    ) -> tuple[list[Wire], str]:
        key = (state or "all").strip().lower()
        if key not in STATE_FILTERS:
            raise invalid_argument("state", f"must be one of {', '.join(STATE_FILTERS)}")
        rows = await self._journal.page(STATE_FILTERS[key], page_size, cursor)
        page = rows[:page_size]
        async with self._sessions() as session:
            live = await held(session, [r.id for r in page if r.unfinished])
        last = page[-1] if page else None
        token = page_token(last.tm_create, last.id) if last else ""
        return [setup_wire(r, r.id in live) for r in page], token

    async def log_unfinished(self, limit: int = 100) -> int:
        """At start: say which setups are unfinished, so nothing is orphaned silently."""
        if not self._config.egress:
            log.warning("provider_setup_disabled", missing="TELNYX_SIP_EGRESS_ADDRESSES")
        records = await self._journal.unfinished(limit)
        async with self._sessions() as session:
            live = await held(session, [r.id for r in records])
        for r in records:
            log.warning(
                "provider_setup_unfinished",
                setup_id=r.id,
                provider_id=r.provider_id,
                state=r.state.value,
                in_progress=r.id in live,
                resources=r.resources.model_dump(),
                note="cleaned up by the next setup that presents this carrier account's key",
            )
        return len(records)
