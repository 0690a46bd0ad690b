"""Answer-seizure ratio, post-dial delay and failure codes of one provider over a window,
read from the stored calls (the Prometheus counters hold the same, but only since this
replica started and only for the whole fleet's scraper)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.timefmt import render, utcnow
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.repositories.provider_metrics import ProviderMetricsRepository


class ProviderMetricsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def metrics(self, provider_id: str, window_seconds: int) -> dict[str, Any]:
        now = utcnow()
        since = now - timedelta(seconds=window_seconds)
        async with self._sessions() as session:
            repo = ProviderMetricsRepository(session)
            summary = await repo.summary(provider_id, since)
            failures = await repo.failures(provider_id, since)
        finished = summary.attempts - summary.in_progress
        return {
            "provider_id": provider_id,
            "window_seconds": window_seconds,
            "since": render(since),
            "until": render(now),
            "attempts": summary.attempts,
            "answered": summary.answered,
            "in_progress": summary.in_progress,
            # Over finished attempts only: one still ringing has not had its chance yet.
            "asr": round(summary.answered / finished, 4) if finished else None,
            "post_dial_delay_ms": {
                "count": summary.pdd_count,
                "avg": summary.pdd_avg,
                "p50": summary.pdd_p50,
                "p95": summary.pdd_p95,
            },
            "failures": [
                {"sip_status_code": f.code, "sip_reason": f.reason, "count": f.count}
                for f in failures
            ],
        }
