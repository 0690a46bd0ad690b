"""Writing results back to provider-manager: one RPC per batch."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from shared.clients import ProviderManagerClient
from shared.errors import AppError
from shared.rpc import RpcClient
from shared.timefmt import render

from health_checker.metrics import WRITEBACK_RESULTS, WRITEBACKS
from health_checker.records import CheckedTarget

log = structlog.get_logger("health.writeback")


def writeback_body(batch: Sequence[CheckedTarget]) -> dict[str, object]:
    return {
        "results": [
            {
                "provider_id": r.target.provider_id,
                "hostname": r.target.hostname,
                "status": r.report.status,
                "checked_at": render(r.checked_at),
            }
            for r in batch
        ]
    }


class ProviderHealthWriteBack:
    def __init__(self, rpc: RpcClient, queue: str, timeout: float) -> None:
        self._provider_manager = ProviderManagerClient(rpc, queue, timeout)

    async def __call__(self, batch: Sequence[CheckedTarget]) -> None:
        try:
            reply = await self._provider_manager.apply_health(writeback_body(batch))
        except AppError as err:
            # provider-manager keeps the previous status; the next round sends fresh results.
            WRITEBACKS.labels("failed").inc()
            WRITEBACK_RESULTS.labels("lost").inc(len(batch))
            log.warning("writeback_failed", reason=err.reason, message=err.message, size=len(batch))
            return
        WRITEBACKS.labels("ok").inc()
        if isinstance(reply, dict):
            WRITEBACK_RESULTS.labels("applied").inc(int(reply.get("applied", 0)))
            WRITEBACK_RESULTS.labels("ignored").inc(int(reply.get("ignored", 0)))
