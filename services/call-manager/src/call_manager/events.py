"""call-manager's events go through the shared outbox (shared.events.add_events), in the
transaction of the change they describe; this binds its outbox table and name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.events import add_events as add_to_outbox
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.settings import SERVICE
from call_manager.tables import outbox


async def add_events(session: AsyncSession, items: Sequence[tuple[str, Any]]) -> None:
    await add_to_outbox(session, outbox, SERVICE, items)
