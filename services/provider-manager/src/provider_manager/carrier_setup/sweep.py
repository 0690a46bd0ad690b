"""Cleaning up setups a crash left unfinished, with the key the next setup presents.

The key is never stored, so an interrupted setup can only be cleaned when a key is presented
again. Each setup first takes the owner lock of every unfinished setup nobody holds (the
owner died), deletes what that setup left at the carrier, and records it in that setup's
journal row. A setup whose resources this key cannot see (another carrier account) stays
unfinished, with the attempt recorded: it is never marked clean on a guess.
"""

from __future__ import annotations

from typing import Any

import structlog

from provider_manager.carrier_setup.cleanup import CleanupReport, remove_setup_resources
from provider_manager.carrier_setup.journal import SetupJournal, SetupRecord, SetupState
from provider_manager.carrier_setup.owner_lock import OwnerLocks
from provider_manager.telnyx import TelnyxClient

log = structlog.get_logger("provider_manager.setup.sweep")


class OrphanSweeper:
    def __init__(self, journal: SetupJournal, limit: int) -> None:
        self._journal = journal
        self._limit = limit

    async def sweep(
        self, client: TelnyxClient, locks: OwnerLocks, by: SetupRecord
    ) -> list[dict[str, Any]]:
        """Clean every orphan this process can claim; returns one summary per orphan handled."""
        summaries: list[dict[str, Any]] = []
        if self._limit <= 0:
            return summaries
        for candidate in await self._journal.unfinished(self._limit, exclude=by.id):
            if not await locks.try_acquire(candidate.id):
                continue  # a live process is running it
            try:
                summary = await self._clean(client, candidate.id, by)
            finally:
                await locks.release(candidate.id)
            if summary is not None:
                summaries.append(summary)
        return summaries

    async def _clean(
        self, client: TelnyxClient, orphan_id: str, by: SetupRecord
    ) -> dict[str, Any] | None:
        orphan = await self._journal.get(orphan_id)  # re-read now that we own it
        if not orphan.unfinished:
            return None
        actor = f"sweep by setup {by.id}"
        if not orphan.creates_requested:
            # Interrupted before asking the carrier to create anything: nothing can exist.
            orphan.add_cleanup(
                {"by": actor, "complete": True, "note": "no carrier resource was requested"}
            )
            orphan.state = SetupState.ROLLED_BACK
            orphan.note("rolled_back", by=actor)
            await self._journal.save(orphan)
            return {"setup_id": orphan.id, "state": orphan.state.value, "deleted": 0}
        report = CleanupReport()
        try:
            await remove_setup_resources(client, orphan.tag, orphan.resources, report)
        finally:
            # Saved even when the sweep's budget runs out mid-way: the record says what is gone.
            entry = report.to_json(by=actor)
            if not report.removed_anything and report.complete:
                entry["note"] = "nothing found with the presented key"
            orphan.add_cleanup(entry)
            if report.removed_anything:
                orphan.state = (
                    SetupState.ROLLED_BACK if report.complete else SetupState.CLEANUP_PENDING
                )
                orphan.note(orphan.state.value, by=actor)
            await self._journal.save(orphan)
            log.warning(
                "provider_setup_orphan_swept",
                orphan_setup_id=orphan.id,
                state=orphan.state.value,
                deleted=report.deleted,
                failed=report.failed,
                lookup_errors=report.lookup_errors,
            )
        return {"setup_id": orphan.id, "state": orphan.state.value, "deleted": len(report.deleted)}
