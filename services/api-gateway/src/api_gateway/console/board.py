"""GET /console/api/board: the whole fleet in one reply, for the board's first render.

Providers come from provider-manager, probe state (RTT, failure streak) from the
health-checker, both asked at once. The health-checker being down leaves the probe columns
empty (and says so) rather than failing the board: the status itself is provider-manager's."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import structlog
from aiohttp import web
from shared.errors import AppError

from api_gateway.console.security import console_identity
from api_gateway.keys import HEALTH_CHECKER, PROVIDER_MANAGER

log = structlog.get_logger("gateway.console.board")

# The whole fleet in one reply takes longer than a one-row read: 10,000 rows were ~0.3 s on
# a quiet machine, several seconds on a loaded one; RPC_TIMEOUT (3 s) suits single reads.
BOARD_RPC_TIMEOUT = 15.0


def merge(providers: list[dict[str, Any]], probes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per provider; probe fields are null for a provider never probed."""
    by_id = {probe["provider_id"]: probe for probe in probes}
    rows = []
    for provider in providers:
        probe = by_id.get(provider["id"], {})
        rows.append(
            {
                **provider,
                "rtt_ms": probe.get("rtt_ms"),
                "consecutive_failures": probe.get("consecutive_failures"),
                "probe_checked_at": probe.get("checked_at"),
            }
        )
    return rows


async def board(request: web.Request) -> web.StreamResponse:
    await console_identity(request)
    started = time.perf_counter()
    replies: tuple[Any | BaseException, ...] = await asyncio.gather(
        request.app[PROVIDER_MANAGER].board(BOARD_RPC_TIMEOUT),
        request.app[HEALTH_CHECKER].probe_targets(BOARD_RPC_TIMEOUT),
        return_exceptions=True,
    )
    providers_reply, probes_reply = replies
    if isinstance(providers_reply, BaseException):
        raise providers_reply
    probes: list[dict[str, Any]] = []
    probes_available = True
    if isinstance(probes_reply, AppError):
        log.warning("console_board_without_probes", reason=probes_reply.reason)
        probes_available = False
    elif isinstance(probes_reply, BaseException):
        raise probes_reply
    else:
        probes = probes_reply["result"]
    asked = time.perf_counter()
    rows = merge(providers_reply["result"], probes)
    body = json.dumps({"result": rows, "probes_available": probes_available})
    done = time.perf_counter()
    response = web.Response(text=body, content_type="application/json")
    # Where a slow board load went, readable in the browser's network panel.
    response.headers["Server-Timing"] = (
        f"rpc;dur={(asked - started) * 1000:.1f}, render;dur={(done - asked) * 1000:.1f}"
    )
    return response
