"""Registration rows: learned from provider records, claimed by one owner, saved after each
REGISTER. See services/registrations.py for the rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.sip.ids import new_call_id, new_tag
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from health_checker.records import ProviderRecord
from health_checker.settings import SCHEMA

R = f"{SCHEMA}.registrations"

# A newer record replaces what we know and makes the row due at once when there is
# something to do (register, or remove a binding we hold). Only providers that want a
# registration get a row; rows of others are only updated (they may hold a binding).
_APPLY = text(
    f"""
    INSERT INTO {R} AS r (provider_id, hostname, transport, auth_username, wanted, expires,
                          source_tm_update, next_due_at, call_id, from_tag)
    SELECT x.id, x.hostname, x.transport, x.username, x.wanted, x.expires, x.tm_update,
           now(), x.call_id, x.from_tag
    FROM unnest(CAST(:ids AS uuid[]), CAST(:hostnames AS text[]), CAST(:transports AS text[]),
                CAST(:usernames AS text[]), CAST(:wanted AS boolean[]),
                CAST(:expires AS int[]), CAST(:tm_updates AS timestamptz[]),
                CAST(:call_ids AS text[]), CAST(:from_tags AS text[]))
         AS x(id, hostname, transport, username, wanted, expires, tm_update, call_id, from_tag)
    WHERE x.wanted OR EXISTS (SELECT 1 FROM {R} WHERE provider_id = x.id)
    ON CONFLICT (provider_id) DO UPDATE SET
        hostname = excluded.hostname,
        transport = excluded.transport,
        auth_username = excluded.auth_username,
        wanted = excluded.wanted,
        expires = excluded.expires,
        source_tm_update = excluded.source_tm_update,
        status = CASE WHEN excluded.wanted THEN 'registering' ELSE 'unregistered' END,
        reported = false,
        failures = 0,
        next_due_at = CASE WHEN excluded.wanted OR r.registered_host IS NOT NULL THEN now()
                           ELSE 'infinity' END
    WHERE NOT r.deleted AND excluded.source_tm_update > r.source_tm_update
    """
)

_DELETE = text(
    f"""
    UPDATE {R} SET wanted = false, deleted = true, reported = true,
        next_due_at = CASE WHEN registered_host IS NOT NULL THEN now() ELSE 'infinity' END
    WHERE provider_id = ANY(CAST(:ids AS uuid[])) AND NOT deleted
    """
)

# Every pass renews the owner's lease on all its rows: a live owner keeps its providers
# (its Contact is what the registrar holds); a dead one's rows become claimable.
_RENEW = text(
    f"""
    UPDATE {R} SET owner_until = now() + make_interval(secs => :lease)
    WHERE owner = :owner
    """
)

_CLAIM = text(
    f"""
    WITH due AS (
        SELECT provider_id FROM {R}
        WHERE next_due_at <= now()
          AND (owner IS NULL OR owner = :owner OR owner_until < now())
        ORDER BY next_due_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {R} AS r SET owner = :owner,
        owner_until = now() + make_interval(secs => :lease),
        next_due_at = now() + make_interval(secs => :lease)
    FROM due WHERE r.provider_id = due.provider_id
    RETURNING r.*
    """
)

_SAVE = text(
    f"""
    UPDATE {R} SET status = :status, reason = :reason, failures = :failures,
        next_due_at = CASE WHEN CAST(:due_in AS float8) IS NULL THEN 'infinity'::timestamptz
                           ELSE now() + make_interval(secs => CAST(:due_in AS float8)) END,
        call_id = :call_id, from_tag = :from_tag, cseq = :cseq,
        registered_host = :registered_host, registered_user = :registered_user,
        granted_expires = :granted,
        registered_at = CASE WHEN :registered THEN now() ELSE registered_at END,
        reported = :reported
    WHERE provider_id = :provider_id AND owner = :owner AND source_tm_update = :source
    """
)

_PURGE = text(f"DELETE FROM {R} WHERE deleted AND registered_host IS NULL")


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    provider_id: str
    hostname: str
    transport: str
    auth_username: str
    wanted: bool
    deleted: bool
    expires: int
    source_tm_update: datetime
    status: str
    reason: str
    reported: bool
    failures: int
    call_id: str
    from_tag: str
    cseq: int
    registered_host: str | None
    registered_user: str | None

    @classmethod
    def of(cls, row: Any) -> RegistrationRow:
        return cls(**{name: row[name] for name in cls.__slots__})


@dataclass(frozen=True, slots=True)
class RegistrationOutcome:
    status: str
    reason: str
    failures: int
    due_in: float | None  # seconds until the next REGISTER; None: nothing more to do
    call_id: str
    from_tag: str
    cseq: int
    registered_host: str | None
    registered_user: str | None
    granted: int
    reported: bool


class RegistrationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def apply(self, records: Sequence[ProviderRecord]) -> None:
        active = [r for r in records if not r.deleted]
        gone = [r.provider_id for r in records if r.deleted]
        if active:
            await self._session.execute(
                _APPLY,
                {
                    "ids": [r.provider_id for r in active],
                    "hostnames": [r.hostname for r in active],
                    "transports": [r.transport for r in active],
                    "usernames": [r.auth_username for r in active],
                    "wanted": [r.register for r in active],
                    "expires": [r.register_expires for r in active],
                    "tm_updates": [r.tm_update for r in active],
                    "call_ids": [new_call_id() for _ in active],
                    "from_tags": [new_tag() for _ in active],
                },
            )
        await self.forget(gone)

    async def forget(self, provider_ids: Sequence[str]) -> None:
        """Deleted providers: their binding (if any) is removed, then the row."""
        if provider_ids:
            await self._session.execute(_DELETE, {"ids": list(provider_ids)})

    async def claim(self, owner: str, lease: float, limit: int) -> list[RegistrationRow]:
        await self._session.execute(_RENEW, {"owner": owner, "lease": lease})
        rows = await self._session.execute(_CLAIM, {"owner": owner, "lease": lease, "limit": limit})
        return [RegistrationRow.of(row) for row in rows.mappings()]

    async def save(self, row: RegistrationRow, owner: str, outcome: RegistrationOutcome) -> None:
        """Only while we still own the row and it still describes the same record (a newer
        record made it due again: its own round will run)."""
        await self._session.execute(
            _SAVE,
            {
                "provider_id": row.provider_id,
                "owner": owner,
                "source": row.source_tm_update,
                "status": outcome.status,
                "reason": outcome.reason[:255],
                "failures": outcome.failures,
                "due_in": outcome.due_in,
                "call_id": outcome.call_id,
                "from_tag": outcome.from_tag,
                "cseq": outcome.cseq,
                "registered_host": outcome.registered_host,
                "registered_user": outcome.registered_user,
                "granted": outcome.granted,
                "registered": outcome.status == "registered",
                "reported": outcome.reported,
            },
        )
        await self._session.execute(_PURGE)
