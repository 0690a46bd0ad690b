"""Applying health-check results to provider rows, a whole batch per SQL statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from provider_manager.settings import SCHEMA
from provider_manager.tables import providers


@dataclass(frozen=True, slots=True)
class AppliedHealth:
    provider_id: str
    old_status: str
    new_status: str


@dataclass(frozen=True, slots=True)
class HealthWrite:
    provider_id: str
    hostname: str
    status: str
    checked_at: datetime


# `old` locks the batch's rows in id order (so two concurrent batches cannot deadlock) and,
# having waited for those locks, reads the latest committed health_status: the value the
# UPDATE replaces. The UPDATE's own conditions are re-checked against the newest row version,
# so a hostname changed (or a provider deleted) by a transaction that committed while we
# waited makes the result a no-op, as does a result older than the one already stored.
# tm_update is left alone: it tracks configuration changes, health has health_checked_at.
_APPLY = text(
    f"""
    UPDATE {SCHEMA}.providers AS p
    SET health_status = r.status, health_checked_at = r.checked_at
    FROM unnest(
            CAST(:ids AS uuid[]),
            CAST(:hostnames AS text[]),
            CAST(:statuses AS text[]),
            CAST(:checked AS timestamptz[])
         ) AS r(id, hostname, status, checked_at),
         (SELECT id, health_status FROM {SCHEMA}.providers
          WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE) AS old
    WHERE p.id = r.id
      AND old.id = p.id
      AND p.tm_delete IS NULL
      AND p.hostname = r.hostname
      AND (p.health_checked_at IS NULL OR p.health_checked_at <= r.checked_at)
    RETURNING p.id::text, old.health_status AS old_status, p.health_status
    """
)


class HealthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def apply(self, writes: Sequence[HealthWrite]) -> list[AppliedHealth]:
        """The providers that took a result, each with its status before and after.

        `writes` must hold at most one result per provider. Only ids and statuses come back:
        a steady fleet changes nothing, and returning every updated row whole (to announce
        the few that changed) was most of provider-manager's CPU per health batch.
        """
        if not writes:
            return []
        rows = await self._session.execute(
            _APPLY,
            {
                "ids": [w.provider_id for w in writes],
                "hostnames": [w.hostname for w in writes],
                "statuses": [w.status for w in writes],
                "checked": [w.checked_at for w in writes],
            },
        )
        return [AppliedHealth(row[0], row[1], row[2]) for row in rows]

    async def rows(self, provider_ids: Sequence[str]) -> list[RowMapping]:
        """Whole provider rows, as the transaction sees them (for the changed ones' events)."""
        if not provider_ids:
            return []
        result = await self._session.execute(
            select(providers).where(providers.c.id.in_(provider_ids)).order_by(providers.c.id)
        )
        return list(result.mappings().all())
