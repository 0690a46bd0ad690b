"""The checks POST /calls makes before anything is stored or dialed, in one place the
service calls at two narrow points: `refusals` before planning, `admit` in the insert
transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from shared.contracts.calls import CallCreate
from shared.errors import AppError, ErrorStatus
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.policy.caller_ids import CallerIds
from call_manager.policy.dial_policy import DialPolicy
from call_manager.policy.fair_share import FairShare


class CallGuard:
    def __init__(self, dial_policy: DialPolicy, caller_ids: CallerIds, fair_share: FairShare):
        self.dial_policy = dial_policy
        self.caller_ids = caller_ids
        self.fair_share = fair_share

    async def refusals(
        self, customer_id: str, body: CallCreate, group_addresses: Iterable[dict[str, Any]]
    ) -> dict[str, str]:
        """Raises 403 SOURCE_NOT_ALLOWED for an unverified source and 403
        DESTINATION_NOT_ALLOWED when a sip destination may not be dialed (the whole request
        is refused: nothing dialed). Returns the refused sip targets inside agents and
        extensions, with why: those become calls that fail at once, as other undialable
        group addresses do."""
        await self.caller_ids.check(customer_id, body.source)
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

    async def admit(self, session: AsyncSession, customer_id: str, count: int) -> None:
        await self.fair_share.admit(session, customer_id, count)
