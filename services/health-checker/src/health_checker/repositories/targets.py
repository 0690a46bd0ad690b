"""Probe targets: learning providers, claiming due targets, recording results.

Batch statements pass columns as arrays through unnest(), so a batch of any size is one
statement with a fixed number of parameters (and one server round trip).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.contracts.health import HISTORY_LIMIT
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from health_checker.records import CheckedTarget, ProviderRecord, RecordedTarget, Target
from health_checker.settings import SCHEMA

T = f"{SCHEMA}.probe_targets"
H = f"{SCHEMA}.probe_history"

# Next due time of a claimed target: one interval on, +- jitter, drawn per row.
_NEXT_DUE = "now() + make_interval(secs => :interval * (1 + :jitter * (2 * random() - 1)))"

# Targets that failed last time go first: a silent one takes the whole timeout, so starting
# those early hides their wait behind the probes of everything that answers.
_CLAIM_DUE = text(
    f"""
    WITH due AS (
        SELECT provider_id FROM {T}
        WHERE tm_delete IS NULL AND next_due_at <= :cutoff
        ORDER BY consecutive_failures > 0 DESC, next_due_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {T} AS t
    SET next_due_at = {_NEXT_DUE}, claimed_by = :replica, claimed_at = now()
    FROM due WHERE t.provider_id = due.provider_id
    RETURNING t.provider_id::text, t.hostname, t.transport
    """
)

_CLAIM_ONE = text(
    f"""
    WITH due AS (
        SELECT provider_id FROM {T}
        WHERE provider_id = :provider_id AND tm_delete IS NULL AND next_due_at <= now()
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {T} AS t
    SET next_due_at = {_NEXT_DUE}, claimed_by = :replica, claimed_at = now()
    FROM due WHERE t.provider_id = due.provider_id
    RETURNING t.provider_id::text, t.hostname, t.transport
    """
)

# A record newer than (or as new as) the stored one replaces it; a tombstone is final.
# A new hostname is due at once and forgets what was learned about the old one.
_UPSERT = text(
    f"""
    INSERT INTO {T} AS t (provider_id, hostname, transport, source_tm_update, next_due_at)
    SELECT r.id, r.hostname, r.transport, r.tm_update, now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:hostnames AS text[]),
                CAST(:transports AS text[]), CAST(:tm_updates AS timestamptz[]))
         AS r(id, hostname, transport, tm_update)
    ON CONFLICT (provider_id) DO UPDATE SET
        hostname = excluded.hostname,
        transport = excluded.transport,
        source_tm_update = excluded.source_tm_update,
        tm_update = now(),
        next_due_at = CASE WHEN t.hostname <> excluded.hostname
                            OR t.transport <> excluded.transport THEN now()
                           ELSE t.next_due_at END,
        last_status = CASE WHEN t.hostname <> excluded.hostname THEN 'unknown'
                           ELSE t.last_status END,
        last_checked_at = CASE WHEN t.hostname <> excluded.hostname THEN NULL
                               ELSE t.last_checked_at END,
        consecutive_failures = CASE WHEN t.hostname <> excluded.hostname THEN 0
                                    ELSE t.consecutive_failures END
    WHERE t.tm_delete IS NULL AND excluded.source_tm_update >= t.source_tm_update
    RETURNING t.provider_id::text, t.next_due_at <= now() AS due
    """
)

# Deleted providers become tombstones (inserted if never seen, so a late create is ignored).
_TOMBSTONE = text(
    f"""
    INSERT INTO {T} AS t (provider_id, hostname, source_tm_update, next_due_at, tm_delete)
    SELECT r.id, r.hostname, r.tm_update, 'infinity', now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:hostnames AS text[]),
                CAST(:tm_updates AS timestamptz[])) AS r(id, hostname, tm_update)
    ON CONFLICT (provider_id) DO UPDATE SET
        tm_delete = now(), tm_update = now(),
        source_tm_update = GREATEST(t.source_tm_update, excluded.source_tm_update)
    WHERE t.tm_delete IS NULL
    RETURNING t.provider_id::text
    """
)

# After a full listing: active targets it did not contain were deleted while we did not
# listen. Targets learned after the listing began may be missing from it legitimately.
_TOMBSTONE_UNSEEN = text(
    f"""
    UPDATE {T} SET tm_delete = now(), tm_update = now()
    WHERE tm_delete IS NULL AND tm_create < :listed_from
      AND NOT (provider_id = ANY(CAST(:seen AS uuid[])))
    RETURNING provider_id::text
    """
)

# One statement per batch: count the probe on its target (which gives it a history slot),
# update the target's state only when the result is about its current hostname and newer
# than what it has, and overwrite the oldest of its history slots.
_RECORD = text(
    f"""
    WITH r AS (
        SELECT * FROM unnest(
            CAST(:ids AS uuid[]), CAST(:hostnames AS text[]), CAST(:checked AS timestamptz[]),
            CAST(:outcomes AS text[]), CAST(:addresses AS text[]), CAST(:codes AS int[]),
            CAST(:reasons AS text[]), CAST(:rtts AS float8[]), CAST(:errors AS text[])
        ) AS r(provider_id, hostname, checked_at, outcome, address, status_code, reason,
               rtt_ms, error)
    ),
    m AS (
        SELECT r.*, (p.tm_delete IS NULL AND p.hostname = r.hostname
                     AND (p.last_checked_at IS NULL OR p.last_checked_at <= r.checked_at))
                    AS current
        FROM r JOIN {T} AS p USING (provider_id)
    ),
    t AS (
        UPDATE {T} AS p SET
            probes_total = p.probes_total + 1,
            consecutive_failures = CASE
                WHEN NOT m.current THEN p.consecutive_failures
                WHEN m.outcome = 'healthy' THEN 0
                ELSE p.consecutive_failures + 1 END,
            last_status = CASE WHEN m.current THEN m.outcome ELSE p.last_status END,
            last_checked_at = CASE WHEN m.current THEN m.checked_at ELSE p.last_checked_at END
        FROM m WHERE p.provider_id = m.provider_id
        RETURNING p.provider_id, p.probes_total, p.consecutive_failures, m.current,
                  p.tm_delete IS NOT NULL AS deleted
    ),
    h AS (
        INSERT INTO {H} (provider_id, slot, checked_at, hostname, address, outcome,
                         status_code, reason, rtt_ms, error)
        SELECT r.provider_id, ((t.probes_total - 1) % {HISTORY_LIMIT})::smallint, r.checked_at,
               r.hostname, r.address, r.outcome, r.status_code, r.reason, r.rtt_ms, r.error
        FROM r JOIN t USING (provider_id)
        ON CONFLICT (provider_id, slot) DO UPDATE SET
            checked_at = excluded.checked_at, hostname = excluded.hostname,
            address = excluded.address, outcome = excluded.outcome,
            status_code = excluded.status_code, reason = excluded.reason,
            rtt_ms = excluded.rtt_ms, error = excluded.error
    )
    SELECT provider_id::text, consecutive_failures, current, deleted FROM t
    """
)

_COUNT_BY_STATUS = text(
    f"SELECT last_status, count(*) FROM {T} WHERE tm_delete IS NULL GROUP BY last_status"
)

_DELETED_AMONG = text(
    f"""
    SELECT provider_id::text FROM {T}
    WHERE provider_id = ANY(CAST(:ids AS uuid[])) AND tm_delete IS NOT NULL
    """
)


def _records_params(records: Sequence[ProviderRecord]) -> dict[str, object]:
    return {
        "ids": [r.provider_id for r in records],
        "hostnames": [r.hostname for r in records],
        "transports": [r.transport for r in records],
        "tm_updates": [r.tm_update for r in records],
    }


class TargetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def db_now(self) -> datetime:
        value: datetime = (await self._session.execute(text("SELECT now()"))).scalar_one()
        return value

    async def claim_due(
        self, cutoff: datetime, limit: int, replica: str, interval: float, jitter: float
    ) -> list[Target]:
        rows = await self._session.execute(
            _CLAIM_DUE,
            {
                "cutoff": cutoff,
                "limit": limit,
                "replica": replica,
                "interval": interval,
                "jitter": jitter,
            },
        )
        return [Target(row[0], row[1], row[2]) for row in rows]

    async def claim_one(
        self, provider_id: str, replica: str, interval: float, jitter: float
    ) -> Target | None:
        row = (
            await self._session.execute(
                _CLAIM_ONE,
                {
                    "provider_id": provider_id,
                    "replica": replica,
                    "interval": interval,
                    "jitter": jitter,
                },
            )
        ).first()
        return Target(row[0], row[1], row[2]) if row is not None else None

    async def upsert(self, records: Sequence[ProviderRecord]) -> list[str]:
        """Apply active providers (one record per provider); returns the ids now due."""
        if not records:
            return []
        rows = await self._session.execute(_UPSERT, _records_params(records))
        return [row[0] for row in rows if row[1]]

    async def tombstone(self, records: Sequence[ProviderRecord]) -> list[str]:
        """Mark deleted providers; returns the ids that were active until now."""
        if not records:
            return []
        rows = await self._session.execute(_TOMBSTONE, _records_params(records))
        return [row[0] for row in rows]

    async def tombstone_unseen(self, seen: Sequence[str], listed_from: datetime) -> list[str]:
        rows = await self._session.execute(
            _TOMBSTONE_UNSEEN, {"seen": list(seen), "listed_from": listed_from}
        )
        return [row[0] for row in rows]

    async def record(self, results: Sequence[CheckedTarget]) -> list[RecordedTarget]:
        """Record results (at most one per provider) and the history they add."""
        if not results:
            return []
        reports = [r.report for r in results]
        rows = await self._session.execute(
            _RECORD,
            {
                "ids": [r.target.provider_id for r in results],
                "hostnames": [r.target.hostname for r in results],
                "checked": [r.checked_at for r in results],
                "outcomes": [p.status for p in reports],
                "addresses": [p.address for p in reports],
                "codes": [p.status_code for p in reports],
                "reasons": [p.reason for p in reports],
                "rtts": [p.rtt_ms for p in reports],
                "errors": [p.error for p in reports],
            },
        )
        return [RecordedTarget(row[0], int(row[1]), bool(row[2]), bool(row[3])) for row in rows]

    async def count_by_status(self) -> dict[str, int]:
        rows = await self._session.execute(_COUNT_BY_STATUS)
        return {str(row[0]): int(row[1]) for row in rows}

    async def deleted_among(self, provider_ids: Sequence[str]) -> list[str]:
        if not provider_ids:
            return []
        rows = await self._session.execute(_DELETED_AMONG, {"ids": list(provider_ids)})
        return [row[0] for row in rows]


_PRUNE = (
    # History of providers deleted over a day ago, then their tombstones after a week: long
    # past any event about them that could still be in flight.
    text(
        f"""
        DELETE FROM {H} AS h USING {T} AS t
        WHERE h.provider_id = t.provider_id AND t.tm_delete < now() - interval '1 day'
        """
    ),
    text(f"DELETE FROM {T} WHERE tm_delete < now() - interval '7 days'"),
    text(f"DELETE FROM {SCHEMA}.processed_events WHERE tm_create < now() - interval '7 days'"),
)


async def prune(session: AsyncSession) -> None:
    """Housekeeping a resync runs: drop what no one can ask for any more."""
    for statement in _PRUNE:
        await session.execute(statement)
