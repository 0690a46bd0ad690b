"""Recording results in the health-checker's own tables (target state and history ring)."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.metrics import FailureGauge
from health_checker.records import CheckedTarget
from health_checker.repositories.targets import TargetRepository

log = structlog.get_logger("health.recorder")


class ResultRecorder:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], failures: FailureGauge) -> None:
        self._sessions = sessions
        self._failures = failures

    async def __call__(self, batch: Sequence[CheckedTarget]) -> None:
        try:
            async with self._sessions() as session, session.begin():
                recorded = await TargetRepository(session).record(batch)
        except Exception as exc:
            # The next round records again; losing one batch of history is acceptable.
            log.warning("record_failed", error=f"{exc.__class__.__name__}: {exc}", size=len(batch))
            return
        for target in recorded:
            if target.deleted:
                self._failures.forget(target.provider_id)
            elif target.current:
                self._failures.set(target.provider_id, target.consecutive_failures)
