"""The checks POST /calls makes before anything is stored or dialed, in one place the
service calls at two narrow points: `refusals` before planning (where calls may go), `admit`
in the insert transaction (the caller ID and the customer's share, one round trip).

The caller ID is checked first whatever else is wrong with a request: when a request is
refused before `admit` (a destination not allowed, nothing to dial), the service asks
`check_source` first, which costs a round trip of its own on that path only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from shared.contracts.calls import CallCreate, SourceAddress
from shared.errors import AppError, ErrorStatus
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.policy.caller_ids import CallerIds, check_source
from call_manager.policy.dial_policy import DialPolicy
from call_manager.policy.fair_share import FairShare, standing


class CallGuard:
    def __init__(self, dial_policy: DialPolicy, caller_ids: CallerIds, fair_share: FairShare):
        self.dial_policy = dial_policy
        self.caller_ids = caller_ids
        self.fair_share = fair_share

    async def refusals(
        self, customer_id: str, body: CallCreate, group_addresses: Iterable[dict[str, Any]]
    ) -> dict[str, str]:
        """Raises 403 DESTINATION_NOT_ALLOWED when a sip destination may not be dialed (the
        whole request is refused: nothing dialed), or 403 SOURCE_NOT_ALLOWED before that
        for an unverified source. Returns the refused sip targets inside agents and
        extensions, with why: those become calls that fail at once, as other undialable
        group addresses do."""
        direct = [(i, d.target) for i, d in enumerate(body.destinations) if d.type == "sip"]
        grouped = sorted({str(a["target"]) for a in group_addresses if a.get("type") == "sip"})
        found = await asyncio.gather(
            *(self.dial_policy.refusal(t) for _, t in direct),
            *(self.dial_policy.refusal(t) for t in grouped),
        )
        refused_direct = [
            (index, target, why)
            for (index, target), why in zip(direct, found[: len(direct)], strict=True)
            if why is not None
        ]
        if refused_direct:
            await self.check_source(customer_id, body.source)
            failed = [
                {"index": i, "destination": body.destinations[i].model_dump(), "reason": why}
                for i, _, why in refused_direct
            ]
            reasons = "; ".join(f"{target}: {why}" for _, target, why in refused_direct)
            raise AppError(
                ErrorStatus.PERMISSION_DENIED,
                "DESTINATION_NOT_ALLOWED",
                f"{reasons}; nothing was dialed",
                {"failed_destinations": failed},
            )
        return {
            target: why
            for target, why in zip(grouped, found[len(direct) :], strict=True)
            if why is not None
        }

    async def check_source(self, customer_id: str, source: SourceAddress) -> None:
        """403 SOURCE_NOT_ALLOWED unless `source` is one of the customer's caller IDs."""
        await self.caller_ids.check(customer_id, source)

    async def admit(
        self, session: AsyncSession, customer_id: str, source: SourceAddress, count: int
    ) -> None:
        """403 SOURCE_NOT_ALLOWED, then 429 TOO_MANY_CALLS, unless `count` calls from
        `source` may be inserted in this transaction (the customer stays locked until it
        ends)."""
        await admit(session, self.fair_share, customer_id, source, count)


async def admit(
    session: AsyncSession,
    fair_share: FairShare,
    customer_id: str,
    source: SourceAddress,
    count: int,
) -> None:
    """CallGuard.admit's checks: one statement, then the caller ID, then the share."""
    now = await standing(session, customer_id)
    check_source(now.caller_ids, source)
    fair_share.check(now, count)
