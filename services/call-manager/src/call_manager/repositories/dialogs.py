"""Stored dialogs (what a BYE needs), written by the owner, read by a survivor's reaper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.tables import calls, dialogs


class DialogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, call_id: str, owner: str, record: dict[str, Any]) -> None:
        values = {**record, "call_id": call_id, "owner_replica": owner}
        await self._session.execute(
            insert(dialogs)
            .values(tm_create=func.clock_timestamp(), **values)
            .on_conflict_do_update(index_elements=[dialogs.c.call_id], set_=values)
        )

    async def remove(self, call_id: str) -> None:
        await self._session.execute(delete(dialogs).where(dialogs.c.call_id == call_id))

    async def of_live_calls(self, owner: str) -> Sequence[RowMapping]:
        """Dialogs of `owner`'s calls not finished yet (the calls a BYE must still end)."""
        result = await self._session.execute(
            select(dialogs)
            .join(calls, calls.c.id == dialogs.c.call_id)
            .where(dialogs.c.owner_replica == owner, calls.c.status != "hangup")
        )
        return result.mappings().all()

    async def remove_owned(self, owner: str) -> None:
        await self._session.execute(delete(dialogs).where(dialogs.c.owner_replica == owner))
