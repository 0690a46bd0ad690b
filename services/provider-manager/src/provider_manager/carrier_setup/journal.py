"""The setup journal: one row per setup attempt, rewritten after every step.

A setup's row has one writer at a time: the process holding the setup's owner lock (see
owner_lock.py), so each save writes the whole record instead of merging.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.contracts.setup import SetupResources
from shared.errors import not_found
from shared.pagination import PageCursor, keyset_page
from shared.timefmt import render, utcnow
from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provider_manager.carrier_setup.config import setup_tag
from provider_manager.tables import provider_setups

# A cleanup history longer than this keeps only the newest entries (an orphan whose carrier
# account is never presented again is retried by every setup).
MAX_CLEANUP_ENTRIES = 20


class SetupState(StrEnum):
    PENDING = "pending"
    OVP_CREATED = "ovp_created"
    CONNECTION_CREATED = "connection_created"
    IPS_CREATED = "ips_created"
    DONE = "done"
    ROLLED_BACK = "rolled_back"
    CLEANUP_PENDING = "cleanup_pending"


FINISHED = frozenset({SetupState.DONE, SetupState.ROLLED_BACK})
UNFINISHED = frozenset(SetupState) - FINISHED

# Written just before the first create: a row without it never asked the carrier for anything.
CREATES_REQUESTED = "creates_requested"


@dataclass
class SetupRecord:
    id: str
    provider_id: str
    carrier: str
    name: str
    state: SetupState = SetupState.PENDING
    steps: list[dict[str, Any]] = field(default_factory=list)
    resources: SetupResources = field(default_factory=SetupResources)
    errors: list[dict[str, Any]] = field(default_factory=list)
    cleanup: list[dict[str, Any]] = field(default_factory=list)
    tm_create: datetime | None = None
    tm_update: datetime | None = None

    @classmethod
    def new(cls, provider_id: str, carrier: str, name: str) -> SetupRecord:
        return cls(id=str(uuid.uuid4()), provider_id=provider_id, carrier=carrier, name=name)

    @classmethod
    def from_row(cls, row: RowMapping) -> SetupRecord:
        return cls(
            id=row["id"],
            provider_id=row["provider_id"],
            carrier=row["carrier"],
            name=row["name"],
            state=SetupState(row["state"]),
            steps=list(row["steps"]),
            resources=SetupResources.model_validate(row["resources"]),
            errors=list(row["errors"]),
            cleanup=list(row["cleanup"]),
            tm_create=row["tm_create"],
            tm_update=row["tm_update"],
        )

    @property
    def tag(self) -> str:
        return setup_tag(self.id)

    @property
    def unfinished(self) -> bool:
        return self.state in UNFINISHED

    @property
    def creates_requested(self) -> bool:
        return any(s.get("step") == CREATES_REQUESTED for s in self.steps)

    def note(self, step: str, **detail: Any) -> None:
        self.steps.append({"step": step, "at": render(utcnow()), **detail})

    def add_cleanup(self, entry: dict[str, Any]) -> None:
        self.cleanup = [*self.cleanup, entry][-MAX_CLEANUP_ENTRIES:]

    def copy(self) -> SetupRecord:
        return copy.deepcopy(self)


def _values(record: SetupRecord) -> dict[str, Any]:
    return {
        "state": record.state.value,
        "steps": record.steps,
        "resources": record.resources.model_dump(),
        "errors": record.errors,
        "cleanup": record.cleanup,
    }


class SetupJournal:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def open(self, record: SetupRecord) -> None:
        now = func.statement_timestamp()
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(provider_setups).values(
                    id=record.id,
                    provider_id=record.provider_id,
                    carrier=record.carrier,
                    name=record.name,
                    tm_create=now,
                    tm_update=now,
                    **_values(record),
                )
            )

    async def save(self, record: SetupRecord) -> None:
        async with self._sessions() as session, session.begin():
            await self.save_in(session, record)

    @staticmethod
    async def save_in(session: AsyncSession, record: SetupRecord) -> None:
        """Save inside the caller's transaction (the last step commits with the provider)."""
        await session.execute(
            update(provider_setups)
            .where(provider_setups.c.id == record.id)
            .values(tm_update=func.clock_timestamp(), **_values(record))
        )

    async def find(self, setup_id: str) -> SetupRecord | None:
        async with self._sessions() as session:
            row = (
                (
                    await session.execute(
                        select(provider_setups).where(provider_setups.c.id == setup_id)
                    )
                )
                .mappings()
                .first()
            )
        return SetupRecord.from_row(row) if row is not None else None

    async def get(self, setup_id: str) -> SetupRecord:
        record = await self.find(setup_id)
        if record is None:
            raise not_found("SETUP_NOT_FOUND", f"provider setup {setup_id} not found")
        return record

    async def for_provider(self, provider_id: str) -> list[SetupRecord]:
        """Every attempt at creating this provider (several when a request was redelivered)."""
        async with self._sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(provider_setups)
                        .where(provider_setups.c.provider_id == provider_id)
                        .order_by(provider_setups.c.tm_create)
                    )
                )
                .mappings()
                .all()
            )
        return [SetupRecord.from_row(row) for row in rows]

    async def unfinished(self, limit: int, exclude: str | None = None) -> list[SetupRecord]:
        """Oldest unfinished setups first (live ones included: the caller checks the lock)."""
        query = select(provider_setups).where(
            provider_setups.c.state.in_([s.value for s in UNFINISHED])
        )
        if exclude is not None:
            query = query.where(provider_setups.c.id != exclude)
        query = query.order_by(provider_setups.c.tm_create, provider_setups.c.id).limit(limit)
        async with self._sessions() as session:
            rows = (await session.execute(query)).mappings().all()
        return [SetupRecord.from_row(row) for row in rows]

    async def page(
        self, states: frozenset[SetupState] | None, page_size: int, cursor: PageCursor | None
    ) -> list[SetupRecord]:
        """One page, newest first."""
        query = select(provider_setups)
        if states is not None:
            query = query.where(provider_setups.c.state.in_([s.value for s in states]))
        query = keyset_page(query, provider_setups, page_size, cursor)
        async with self._sessions() as session:
            rows = (await session.execute(query)).mappings().all()
        return [SetupRecord.from_row(row) for row in rows]
