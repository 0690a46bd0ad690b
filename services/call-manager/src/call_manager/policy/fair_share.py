"""Fair share between customers: concurrent calls and new calls per second, per customer,
counted in PostgreSQL so every replica sees the same numbers.

The rate is averaged over RATE_WINDOW seconds (at most rate x window calls created within
any window), so one request of up to that many destinations can start at once: a burst
that fits, rather than a per-second cap no 100-destination request could ever meet.

`standing` runs inside the transaction that inserts the new calls, as one call of the
PL/pgSQL function admit_calls (one round trip): it takes a transaction-level advisory lock
on the customer (two creates of one customer, on any replicas, queue there; other customers
are not touched), then counts the customer's live calls and those created in the last
RATE_WINDOW seconds, and reads its verified caller IDs. `check` refuses the whole request
(429 TOO_MANY_CALLS with Retry-After) when its calls do not all fit: nothing is inserted and
nothing dialed. The counts come from the calls themselves, so there is no counter to drift
when a replica dies (its calls are finished by the reaper and stop counting).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter
from shared.errors import AppError, ErrorStatus
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

RATE_WINDOW = 10  # seconds

FAIR_SHARE_REFUSALS = Counter(
    "call_fair_share_refusals_total", "POST /calls refused for a customer's limit", ["limit"]
)

_STANDING = text("SELECT live_calls, recent_calls, patterns FROM call_manager.admit_calls(:c, :w)")


@dataclass(frozen=True)
class Standing:
    """A customer's calls and caller IDs, read under its lock."""

    live: int
    recent: int
    caller_ids: list[str]


async def standing(session: AsyncSession, customer_id: str) -> Standing:
    """Lock the customer until the transaction ends; its counts and verified caller IDs."""
    found = await session.execute(_STANDING, {"c": customer_id, "w": float(RATE_WINDOW)})
    live, recent, patterns = found.one()
    return Standing(int(live), int(recent), list(patterns))


@dataclass(frozen=True)
class CustomerLimits:
    max_calls: int = 100  # live (not hung up) calls at once
    max_new_per_second: int = 10  # calls created, averaged over RATE_WINDOW seconds

    @property
    def max_new_per_window(self) -> int:
        return self.max_new_per_second * RATE_WINDOW


def too_many_calls(message: str, details: dict[str, int], retry_after: int = 1) -> AppError:
    return AppError(
        ErrorStatus.RESOURCE_EXHAUSTED,
        "TOO_MANY_CALLS",
        f"{message}; nothing was dialed",
        {**details, "retry_after": retry_after},
    )


class FairShare:
    def __init__(self, limits: CustomerLimits) -> None:
        self.limits = limits

    async def admit(self, session: AsyncSession, customer_id: str, count: int) -> None:
        """Raises 429 TOO_MANY_CALLS unless `count` more calls fit; call it in the
        transaction that inserts them (the lock is held until it ends)."""
        self.check(await standing(session, customer_id), count)

    def check(self, now: Standing, count: int) -> None:
        """Raises 429 TOO_MANY_CALLS unless `count` more calls fit in `now`."""
        if count <= 0:
            return
        limits = self.limits
        if count > limits.max_calls or count > limits.max_new_per_window:
            FAIR_SHARE_REFUSALS.labels("request_size").inc()
            raise too_many_calls(
                f"{count} calls in one request exceed your limits ({limits.max_calls} at once, "
                f"{limits.max_new_per_second} per second)",
                {"requested": count},
            )
        live, recent = now.live, now.recent
        if live + count > limits.max_calls:
            FAIR_SHARE_REFUSALS.labels("concurrent").inc()
            raise too_many_calls(
                f"you have {live} calls in progress; {count} more would pass your limit of "
                f"{limits.max_calls}",
                {"live": live, "requested": count, "limit": limits.max_calls},
            )
        if recent + count > limits.max_new_per_window:
            FAIR_SHARE_REFUSALS.labels("rate").inc()
            raise too_many_calls(
                f"{recent} calls were started in the last {RATE_WINDOW} s; {count} more would "
                f"pass your limit of {limits.max_new_per_second} per second",
                {"recent": recent, "requested": count, "limit": limits.max_new_per_second},
                retry_after=RATE_WINDOW,
            )
