"""call-manager's events: written to the outbox in the transaction of the change they
describe. A create writes hundreds at once, so they go in one multi-row INSERT."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from shared.logging import current_request_id
from shared.timefmt import render, utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.settings import SERVICE
from call_manager.tables import outbox


async def add_events(session: AsyncSession, items: Sequence[tuple[str, Any]]) -> None:
    if not items:
        return
    request_id = current_request_id()
    stamp = render(utcnow())
    rows = []
    for event_type, data in items:
        # The Event envelope's fields, built as a plain dict: hundreds per create add up.
        event_id = str(uuid.uuid4())
        payload = {
            "id": event_id,
            "type": event_type,
            "publisher": SERVICE,
            "timestamp": stamp,
            "request_id": request_id,
            "data_type": "application/json",
            "data": data,
        }
        rows.append({"id": event_id, "type": event_type, "payload": payload})
    await session.execute(outbox.insert(), rows)
