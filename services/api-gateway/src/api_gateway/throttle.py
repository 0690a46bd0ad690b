"""Failed-login throttling per username and per client address, kept in PostgreSQL.

Each key ("user:<name>", "addr:<ip>") counts attempts in a fixed window. An attempt is
counted *before* the password is checked, in one statement for both keys, so parallel
guesses cannot all slip through between a check and a write, and every gateway replica sees
the same counts. No password hash is computed for an attempt the throttle refuses (429
TOO_MANY_LOGIN_ATTEMPTS with Retry-After). It refuses in two ways:

- Growing delay: after the n-th failure (n >= 2) of a key, its next attempt is held back
  for `delay x 2^(n-2)` seconds from that failure (1, 2, 4, 8 s with the default 1 s),
  capped at the window. A held attempt is not counted and changes nothing, so a client
  that retries too soon loses no guess, and an attacker gets one guess per delay. The
  attempt itself already holds its keys back for that delay while its password is being
  checked, so parallel guesses cannot slip in meanwhile; the failure restarts the delay.
- Lockout: over the limit within the window, every attempt (the right password included) is
  refused until the window that started with the first failure has passed.

A successful login clears its username's count and takes its own attempt back from the
address's count (and the delay that attempt set), but leaves the address's earlier
failures: otherwise one attacker could clear the address between guesses by logging in to
an account of their own.
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

_NOW = "statement_timestamp()"
_WINDOW = "make_interval(secs => CAST(:window AS float8))"
_EXPIRED = f"f.window_start <= {_NOW} - {_WINDOW}"
_WAITING = f"coalesce(f.next_attempt > {_NOW}, false)"


def _delay_after(failures: str) -> str:
    """SQL: how long a key's next attempt waits after its `failures`-th failure."""
    return (
        f"make_interval(secs => CASE WHEN {failures} < 2 THEN 0 ELSE least(CAST(:delay AS "
        f"float8) * power(2, least({failures} - 2, 30)), CAST(:window AS float8)) END)"
    )


_LEFT = (
    f"extract(epoch FROM window_start + {_WINDOW} - {_NOW}) AS window_left, "
    f"extract(epoch FROM next_attempt - {_NOW}) AS delay_left"
)
# Keys still in their delay refuse the attempt before anything is counted. Otherwise both
# keys are counted, each re-checking its delay under its row lock (a parallel attempt may
# have counted meanwhile), and each holds its next attempt back as if this one will fail:
# parallel guesses wait while this one's password is checked.
_ATTEMPT = text(
    f"""
    WITH held AS (
        SELECT key, failures, true AS held, {_LEFT}
        FROM api_gateway.login_failures
        WHERE key = ANY(CAST(:keys AS text[]))
          AND window_start > {_NOW} - {_WINDOW} AND next_attempt > {_NOW}
    ), counted AS (
        INSERT INTO api_gateway.login_failures AS f (key, failures, window_start, held)
        SELECT k, 1, {_NOW}, false FROM unnest(CAST(:keys AS text[])) AS k
        WHERE NOT EXISTS (SELECT 1 FROM held)
        ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN {_EXPIRED} THEN 1
                WHEN {_WAITING} THEN f.failures ELSE f.failures + 1 END,
            window_start = CASE WHEN {_EXPIRED} THEN {_NOW} ELSE f.window_start END,
            next_attempt = CASE WHEN {_EXPIRED} THEN NULL
                WHEN {_WAITING} THEN f.next_attempt
                ELSE {_NOW} + {_delay_after("f.failures + 1")} END,
            held = NOT {_EXPIRED} AND {_WAITING}
        RETURNING key, failures, held, {_LEFT}
    )
    SELECT * FROM held UNION ALL SELECT * FROM counted
    """
)
# The delay runs from the failure, not from the attempt: a slow hash does not shorten it.
_FAILED = text(
    f"""
    UPDATE api_gateway.login_failures AS f
    SET next_attempt = {_NOW} + {_delay_after("f.failures")}
    WHERE key = ANY(CAST(:keys AS text[])) AND NOT {_EXPIRED}
    """
)
_SUCCEEDED = text(
    """
    WITH cleared AS (DELETE FROM api_gateway.login_failures WHERE key = :user)
    UPDATE api_gateway.login_failures
    SET failures = greatest(failures - 1, 0), next_attempt = NULL
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
    delay_seconds: float = 1.0  # after the 2nd failure; doubles with each one; 0: no delay


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

    def _params(self, username: str, address: str | None) -> dict[str, object]:
        return {
            "keys": [user_key(username), address_key(address)],
            "window": self.limits.window_seconds,
            "delay": self.limits.delay_seconds,
        }

    async def attempt(self, username: str, address: str | None) -> None:
        """Count one attempt; raises 429 when a key is held back by its delay or over its
        limit."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_ATTEMPT, self._params(username, address))).all()
            if random.random() < 0.01:  # now and then, forget windows long gone
                await conn.execute(_PURGE, {"window": self.limits.window_seconds})
        refused, wait = False, 0.0
        for key, failures, held, window_left, delay_left in rows:
            kind = key.partition(":")[0]
            limit = self.limits.user_failures if kind == "user" else self.limits.address_failures
            if failures > limit or (held and failures >= limit):
                wait = max(wait, float(window_left))  # locked out: the rest of the window
            elif held:
                wait = max(wait, float(delay_left or 0))
            else:
                continue
            refused = True
            LOGIN_THROTTLED.labels(kind).inc()
        if refused:
            raise too_many_attempts(max(1, math.ceil(wait)))

    async def succeeded(self, username: str, address: str | None) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(
                _SUCCEEDED, {"user": user_key(username), "addr": address_key(address)}
            )

    async def failed(self, username: str, address: str | None) -> None:
        LOGIN_FAILED.inc()
        if self.limits.delay_seconds <= 0:
            return
        async with self._engine.connect() as conn:
            await conn.execute(_FAILED, self._params(username, address))
