"""Per-provider call metrics computed from the calls table: every INVITE a call sent is an
element of its `attempts` list, so one provider's attempts over a window are the elements
naming it, among the calls created in that window (the calls_page index bounds the scan)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.settings import SCHEMA

# Post-dial delay of an attempt: INVITE to the call's first 18x when that came during this
# attempt, else to the answer when this attempt was answered without a 18x. The call row
# keeps one ringing time, so a failover attempt after an earlier one rang has no delay.
_ATTEMPTS = f"""
    SELECT (e->>'sip_status_code')::int AS code,
           e->>'sip_reason' AS reason,
           CAST(e->>'tm_start' || '+00' AS timestamptz) AS t_start,
           CAST(NULLIF(e->>'tm_end', '') || '+00' AS timestamptz) AS t_end,
           c.tm_ringing, c.tm_progressing
    FROM {SCHEMA}.calls AS c CROSS JOIN LATERAL jsonb_array_elements(c.attempts) AS e
    WHERE c.tm_create >= :since AND e->>'provider_id' = :provider_id
"""

_SUMMARY = text(
    f"""
    WITH a AS ({_ATTEMPTS}),
    d AS (
        SELECT a.*, CASE
            WHEN tm_ringing >= t_start AND (t_end IS NULL OR tm_ringing <= t_end)
                THEN extract(epoch FROM tm_ringing - t_start) * 1000
            WHEN code BETWEEN 200 AND 299 AND tm_progressing >= t_start
                THEN extract(epoch FROM tm_progressing - t_start) * 1000
            END AS pdd_ms
        FROM a
    )
    SELECT count(*) AS attempts,
           count(*) FILTER (WHERE code BETWEEN 200 AND 299) AS answered,
           count(*) FILTER (WHERE t_end IS NULL) AS in_progress,
           count(pdd_ms) AS pdd_count,
           avg(pdd_ms) AS pdd_avg,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY pdd_ms) AS pdd_p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY pdd_ms) AS pdd_p95
    FROM d
    """
)

# Finished attempts that were not answered, by final code (0: no final response at all).
_FAILURES = text(
    f"""
    WITH a AS ({_ATTEMPTS})
    SELECT code, min(reason) AS reason, count(*) AS count FROM a
    WHERE t_end IS NOT NULL AND NOT (code BETWEEN 200 AND 299)
    GROUP BY code ORDER BY count DESC, code
    """
)


@dataclass(frozen=True, slots=True)
class AttemptSummary:
    attempts: int
    answered: int
    in_progress: int
    pdd_count: int
    pdd_avg: float | None
    pdd_p50: float | None
    pdd_p95: float | None


@dataclass(frozen=True, slots=True)
class FailureCount:
    code: int
    reason: str
    count: int


class ProviderMetricsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def summary(self, provider_id: str, since: datetime) -> AttemptSummary:
        row = (
            await self._session.execute(_SUMMARY, {"provider_id": provider_id, "since": since})
        ).one()
        return AttemptSummary(
            attempts=int(row.attempts),
            answered=int(row.answered),
            in_progress=int(row.in_progress),
            pdd_count=int(row.pdd_count),
            pdd_avg=_float(row.pdd_avg),
            pdd_p50=_float(row.pdd_p50),
            pdd_p95=_float(row.pdd_p95),
        )

    async def failures(self, provider_id: str, since: datetime) -> list[FailureCount]:
        rows = await self._session.execute(_FAILURES, {"provider_id": provider_id, "since": since})
        return [FailureCount(int(r[0]), str(r[1] or ""), int(r[2])) for r in rows]


def _float(value: object) -> float | None:
    return None if value is None else round(float(str(value)), 1)
