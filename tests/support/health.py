"""Health-checker test settings and reading its own tables."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aio_pika.abc import AbstractRobustConnection
from health_checker.app import HealthCheckerApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

INTERVAL = 1.0
TIMEOUT = 0.8  # below INTERVAL: a silent carrier does not make rounds overrun

# Probe rounds every INTERVAL, results written back at once, no periodic resync.
FAST_HEALTH_CHECKS: dict[str, Any] = {
    "HEALTH_CHECKER_OPS_PORT": 0,
    "HEALTH_CHECK_INTERVAL": INTERVAL,
    "HEALTH_CHECK_TIMEOUT": TIMEOUT,
    "HEALTH_CHECK_POLL_INTERVAL": 0.1,
    "HEALTH_CHECK_FLUSH_INTERVAL": 0.05,
    "HEALTH_CHECK_RESYNC_INTERVAL": 600,
}

# `await start_health_checker(**overrides)` -> a started replica (the health fixture).
StartHealthChecker = Callable[..., Awaitable[HealthCheckerApp]]


async def target_row(engine: AsyncEngine, provider_id: str) -> dict[str, Any] | None:
    """The health-checker's own target row (tests may look at its schema)."""
    async with engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    text("SELECT * FROM health_checker.probe_targets WHERE provider_id = :id"),
                    {"id": provider_id},
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None


async def drop_subscribe_queue(broker: AbstractRobustConnection, env: dict[str, Any]) -> None:
    """The health-checker's durable event queue would outlive the run: remove it."""
    channel = await broker.channel()
    with contextlib.suppress(Exception):
        await channel.queue_delete(f"{env['QUEUE_PREFIX']}.health-checker.subscribe")
    with contextlib.suppress(Exception):
        await channel.close()
