"""Idempotency-Key handling for creates (ProviderCalls and POST /calls).

A key is claimed (committed) before any work, so a concurrent duplicate finds the claim and
waits for its result instead of dialing a second time; a finished key answers with what the
first request created (`load_done`), a failed request releases its key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from shared.errors import AppError, ErrorStatus
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.repositories.idempotency import DONE, IdempotencyRepository

Wire = dict[str, Any]
# What the first request created, read in the given session by the id it claimed with.
LoadDone = Callable[[AsyncSession, str], Awaitable[Any]]
# A pending key older than this belongs to a request that died; a retry may take it over.
STALE_CLAIM = timedelta(seconds=60)


def request_hash(body: BaseModel, scope: str = "") -> str:
    """sha256 of the canonical body; `scope` keeps one key from matching across endpoints."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{scope}{canonical}".encode()).hexdigest()


class IdempotencyClaims:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], wait: float = 5.0) -> None:
        self._sessions = sessions
        self._wait = wait

    async def claim(
        self, customer_id: str, key: str, digest: str, resource_id: str, load_done: LoadDone
    ) -> Any | None:
        """None when this request holds the key; the first result when another did."""
        deadline = time.monotonic() + self._wait
        while True:
            async with self._sessions() as session, session.begin():
                repo = IdempotencyRepository(session)
                if await repo.claim(customer_id, key, digest, resource_id) is not None:
                    return None
                found = await repo.find(customer_id, key)
                if found is None:
                    continue  # released meanwhile: claim again
                if found["request_hash"] != digest:
                    raise AppError(
                        ErrorStatus.UNPROCESSABLE,
                        "IDEMPOTENCY_KEY_REUSED",
                        "this Idempotency-Key was used with a different request body",
                    )
                if found["state"] == DONE:
                    earlier = await load_done(session, str(found["providercall_id"]))
                    if earlier is not None:
                        return earlier
                if await repo.take_over_stale(customer_id, key, STALE_CLAIM, resource_id):
                    return None
            if time.monotonic() > deadline:
                raise AppError(
                    ErrorStatus.FAILED_PRECONDITION,
                    "IDEMPOTENCY_IN_PROGRESS",
                    "a request with this Idempotency-Key is still being processed; retry later",
                )
            await asyncio.sleep(0.05)

    async def release(self, customer_id: str, key: str) -> None:
        async with self._sessions() as session, session.begin():
            await IdempotencyRepository(session).release(customer_id, key)

    @staticmethod
    async def complete(session: AsyncSession, customer_id: str, key: str) -> None:
        """Mark the key done in the transaction that stores the result."""
        await IdempotencyRepository(session).complete(customer_id, key)
