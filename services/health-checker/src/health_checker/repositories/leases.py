"""Named time leases shared by replicas: who does a periodic job next."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from health_checker.settings import SCHEMA

_ACQUIRE = text(
    f"""
    INSERT INTO {SCHEMA}.leases AS l (name, holder, until)
    VALUES (:name, :holder, now() + make_interval(secs => :seconds))
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
    WHERE l.until <= now() OR :force
    RETURNING name
    """
)


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def acquire(self, name: str, holder: str, seconds: float, force: bool = False) -> bool:
        """Take `name` for `seconds` if it is free (expired), or regardless when `force`."""
        row = (
            await self._session.execute(
                _ACQUIRE, {"name": name, "holder": holder, "seconds": seconds, "force": force}
            )
        ).first()
        return row is not None
