"""Failed-login throttling per username and per client address, kept in PostgreSQL.

Each key ("user:<name>", "addr:<ip>") counts attempts in a fixed window. An attempt is
counted *before* the password is checked, in one statement for both keys, so parallel
guesses cannot all slip through between a check and a write, and every gateway replica sees
the same counts. Over the limit, the attempt is refused with 429 and a Retry-After until the
window that started with the first failure has passed; no password hash is computed for it.

A successful login clears its username's count and takes its own attempt back from the
address's count, but leaves the address's earlier failures: otherwise one attacker could
clear the address between guesses by logging in to an account of their own.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from prometheus_client import Counter
from shared.db import autocommit_engine
from shared.errors import AppError, ErrorStatus
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

LOGIN_THROTTLED = Counter(
    "gateway_login_throttled_total", "Login attempts refused by the throttle", ["key"]
)
LOGIN_FAILED = Counter("gateway_login_failures_total", "Logins refused for bad credentials")

_COUNT = text(
    """
    INSERT INTO api_gateway.login_failures AS f (key, failures, window_start)
    SELECT k, 1, statement_timestamp() FROM unnest(CAST(:keys AS text[])) AS k
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE
            WHEN f.window_start <= statement_timestamp() - make_interval(secs => :window)
            THEN 1 ELSE f.failures + 1 END,
        window_start = CASE
            WHEN f.window_start <= statement_timestamp() - make_interval(secs => :window)
            THEN statement_timestamp() ELSE f.window_start END
    RETURNING key, failures,
        extract(epoch FROM f.window_start + make_interval(secs => :window) - statement_timestamp())
    """
)
_SUCCEEDED = text(
    """
    WITH cleared AS (DELETE FROM api_gateway.login_failures WHERE key = :user)
    UPDATE api_gateway.login_failures SET failures = greatest(failures - 1, 0)
    WHERE key = :addr
    """
)
_PURGE = text(
    "DELETE FROM api_gateway.login_failures "
    "WHERE window_start < statement_timestamp() - make_interval(secs => :window)"
)


@dataclass(frozen=True)
class ThrottleLimits:
    user_failures: int = 5
    address_failures: int = 5
    window_seconds: float = 900.0


def user_key(username: str) -> str:
    return f"user:{username}"


def address_key(address: str | None) -> str:
    return f"addr:{address or 'unknown'}"


def too_many_attempts(retry_after: int) -> AppError:
    return AppError(
        ErrorStatus.RESOURCE_EXHAUSTED,
        "TOO_MANY_LOGIN_ATTEMPTS",
        f"too many failed logins; try again in {retry_after} s",
        {"retry_after": retry_after},
    )


class LoginThrottle:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], limits: ThrottleLimits) -> None:
        self._engine = autocommit_engine(sessions)
        self.limits = limits

    async def attempt(self, username: str, address: str | None) -> None:
        """Count one attempt; raises 429 when either key is over its limit."""
        keys = [user_key(username), address_key(address)]
        params = {"keys": keys, "window": self.limits.window_seconds}
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_COUNT, params)).all()
            if random.random() < 0.01:  # now and then, forget windows long gone
                await conn.execute(_PURGE, {"window": self.limits.window_seconds})
        wait = 0.0
        for key, failures, remaining in rows:
            limit = (
                self.limits.user_failures
                if key.startswith("user:")
                else self.limits.address_failures
            )
            if failures > limit:
                LOGIN_THROTTLED.labels(key.partition(":")[0]).inc()
                wait = max(wait, float(remaining))
        if wait > 0:
            raise too_many_attempts(max(1, math.ceil(wait)))

    async def succeeded(self, username: str, address: str | None) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(
                _SUCCEEDED, {"user": user_key(username), "addr": address_key(address)}
            )

    @staticmethod
    def failed() -> None:
        LOGIN_FAILED.inc()
