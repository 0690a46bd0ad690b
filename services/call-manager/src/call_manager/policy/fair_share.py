"""Fair share between customers: concurrent calls and new calls per second, per customer,
counted in PostgreSQL so every replica sees the same numbers.

The rate is averaged over RATE_WINDOW seconds (at most rate x window calls created within
any window), so one request of up to that many destinations can start at once: a burst
that fits, rather than a per-second cap no 100-destination request could ever meet.

`admit` runs inside the transaction that inserts the new calls. It takes a transaction-level
advisory lock on the customer (two creates of one customer, on any replicas, queue there;
other customers are not touched), counts the customer's live calls and those created in
the last RATE_WINDOW seconds, and refuses the whole request (429 TOO_MANY_CALLS with
Retry-After) when its calls do not all fit: nothing is inserted and nothing dialed. The
counts come from the calls themselves, so there is no counter to drift when a replica dies
(its calls are finished by the reaper and stop counting).
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

_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('call-manager/customer/' || :c, 0))")
_COUNT = text(
    """
    SELECT
        (SELECT count(*) FROM call_manager.calls
          WHERE customer_id = CAST(:c AS uuid) AND status <> 'hangup') AS live,
        (SELECT count(*) FROM call_manager.calls
          WHERE customer_id = CAST(:c AS uuid)
            AND tm_create > statement_timestamp() - make_interval(secs => :w)) AS recent
    """
)


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
        await session.execute(_LOCK, {"c": customer_id})
        counted = await session.execute(_COUNT, {"c": customer_id, "w": float(RATE_WINDOW)})
        live, recent = counted.one()
        if live + count > limits.max_calls:
            FAIR_SHARE_REFUSALS.labels("concurrent").inc()
            raise too_many_calls(
                f"you have {live} calls in progress; {count} more would pass your limit of "
                f"{limits.max_calls}",
                {"live": int(live), "requested": count, "limit": limits.max_calls},
            )
        if recent + count > limits.max_new_per_window:
            FAIR_SHARE_REFUSALS.labels("rate").inc()
            raise too_many_calls(
                f"{recent} calls were started in the last {RATE_WINDOW} s; {count} more would "
                f"pass your limit of {limits.max_new_per_second} per second",
                {"recent": int(recent), "requested": count, "limit": limits.max_new_per_second},
                retry_after=RATE_WINDOW,
            )
