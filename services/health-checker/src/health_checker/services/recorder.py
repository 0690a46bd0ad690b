"""Recording results in the health-checker's own tables (target state and history ring)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog
from shared.events import add_event, publishing
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.metrics import FailureGauge
from health_checker.records import CheckedTarget
from health_checker.repositories.targets import TargetRepository
from health_checker.services.board import PROBES_RECORDED, probes_recorded_data
from health_checker.settings import SERVICE
from health_checker.tables import outbox

log = structlog.get_logger("health.recorder")


class ResultRecorder:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        failures: FailureGauge,
        wake_relay: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._failures = failures
        self._wake_relay = wake_relay

    async def __call__(self, batch: Sequence[CheckedTarget]) -> None:
        try:
            async with publishing(self._sessions, self._wake_relay) as session:
                recorded = await TargetRepository(session).record(batch)
                # One event per batch, not per probe: a 10,000-provider fleet stays ~20
                # messages a round. Watchers (the console) see RTT and failure streaks.
                data = probes_recorded_data(batch, recorded)
                if data["results"]:
                    await add_event(session, outbox, SERVICE, PROBES_RECORDED, data)
        except Exception as exc:
            # The next round records again; losing one batch of history is acceptable.
            log.warning("record_failed", error=f"{exc.__class__.__name__}: {exc}", size=len(batch))
            return
        for target in recorded:
            if target.deleted:
                self._failures.forget(target.provider_id)
            elif target.current:
                self._failures.set(target.provider_id, target.consecutive_failures)
