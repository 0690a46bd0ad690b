"""Registration outcomes from the owner (health-checker): stored on the provider while they
are still about its current registrar and wish (register on -> registering/registered/failed,
off -> unregistered), announced as provider_registration_changed when the status changes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from shared.contracts.providers import RegistrationReportBatch
from shared.errors import invalid_argument
from shared.events import add_events, publishing
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provider_manager.models import provider_wire
from provider_manager.settings import SCHEMA, SERVICE
from provider_manager.tables import outbox

REGISTRATION_CHANGED = "provider_registration_changed"

_APPLY = text(
    f"""
    UPDATE {SCHEMA}.providers AS p SET
        registration_status = :status,
        registration_reason = :reason,
        registration_changed_at = CASE WHEN p.registration_status <> :status
                                       THEN clock_timestamp()
                                       ELSE p.registration_changed_at END
    FROM (SELECT id, registration_status FROM {SCHEMA}.providers
          WHERE id = CAST(:id AS uuid) FOR UPDATE) AS old
    WHERE p.id = old.id AND p.tm_delete IS NULL AND p.hostname = :hostname
      AND p.register = (:status <> 'unregistered')
      AND (p.registration_status <> :status OR p.registration_reason <> :reason)
    RETURNING p.*, old.registration_status AS old_status
    """
)


class RegistrationService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None] | None
    ) -> None:
        self._sessions = sessions
        self._wake = wake

    async def apply(self, batch: RegistrationReportBatch) -> dict[str, int]:
        changes: list[tuple[str, dict[str, Any]]] = []
        applied = 0
        async with publishing(self._sessions, self._wake) as session:
            for i, item in enumerate(batch.results):
                try:
                    provider_id = str(uuid.UUID(item.provider_id))
                except ValueError:
                    raise invalid_argument(f"results.{i}.provider_id", "is not a UUID") from None
                row = (
                    (
                        await session.execute(
                            _APPLY,
                            {
                                "id": provider_id,
                                "hostname": item.hostname,
                                "status": item.status,
                                "reason": item.reason,
                            },
                        )
                    )
                    .mappings()
                    .first()
                )
                if row is None:
                    continue
                applied += 1
                if row["old_status"] != row["registration_status"]:
                    provider = provider_wire(row)
                    changes.append(
                        (
                            REGISTRATION_CHANGED,
                            {
                                "provider_id": provider["id"],
                                "hostname": provider["hostname"],
                                "old_status": row["old_status"],
                                "new_status": provider["registration_status"],
                                "reason": provider["registration_reason"],
                                "changed_at": provider["registration_changed_at"],
                                "provider": provider,
                            },
                        )
                    )
            await add_events(session, outbox, SERVICE, changes)
        return {
            "applied": applied,
            "changed": len(changes),
            "ignored": len(batch.results) - applied,
        }
