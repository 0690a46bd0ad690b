"""The faults: each injects, waits, and heals (always, in a `finally`), and returns when it
was injected and when it ended, so recovery is measured from there."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from dataclasses import dataclass, field

from tests.chaos.platform import Platform, Replica

RESTART_DELAY = 1.0  # like a kubelet restarting a crashed container (no back-off yet)
PARTITION_SECONDS = 5.0
BACKEND_OUTAGE_SECONDS = 3.0  # kept short: other suites share the servers


@dataclass
class FaultClock:
    injected: float = 0.0
    injected_wall: float = field(default_factory=time.time)  # to compare with log stamps
    healed: float = 0.0  # the backend or link is back, or the killed process was restarted
    # Whose readiness tells the fault is over: the restarted replica, or every replica.
    replicas: list[Replica] | None = None


async def kill9(platform: Platform, replica: Replica | None) -> FaultClock:
    """SIGKILL one replica (None: the call-manager owning the most live calls), restart it a
    second later (a new process, a new replica id)."""
    if replica is None:
        replica = await platform.busiest_call_manager()
    clock = FaultClock(injected=time.monotonic(), replicas=[replica])
    replica.held = True
    replica.kill9()
    assert replica.process is not None
    await replica.process.wait()
    try:
        await asyncio.sleep(RESTART_DELAY)
    finally:
        await platform.restart(replica)
        replica.held = False
        clock.healed = time.monotonic()
    return clock


async def partition(replica: Replica) -> FaultClock:
    """Cut one replica off from RabbitMQ for PARTITION_SECONDS (its TCP proxy refuses)."""
    assert replica.proxy is not None, f"{replica.label} has no proxy"
    clock = FaultClock(injected=time.monotonic(), replicas=[replica])
    await replica.proxy.sever()
    try:
        await asyncio.sleep(PARTITION_SECONDS)
    finally:
        replica.proxy.restore()
        clock.healed = time.monotonic()
    return clock


def _run(*command: str, timeout: float = 60.0) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()[-500:]}")


async def _heal(start: tuple[str, ...], running: tuple[str, ...]) -> None:
    """Bring a shared backend back: other suites depend on it, so try a few times (done as
    soon as `running` says it runs)."""
    for attempt in range(5):
        try:
            await asyncio.to_thread(_run, *start, timeout=90)
            return
        except (RuntimeError, subprocess.TimeoutExpired):
            try:
                await asyncio.to_thread(_run, *running, timeout=30)
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if attempt == 4:
                    raise
            await asyncio.sleep(2.0)


async def rabbitmq_restart() -> FaultClock:
    """`rabbitmqctl stop_app`, a short outage, `start_app` (always, in the finally)."""
    clock = FaultClock(injected=time.monotonic())
    try:
        await asyncio.to_thread(_run, "rabbitmqctl", "stop_app")
        await asyncio.sleep(BACKEND_OUTAGE_SECONDS)
    finally:
        await _heal(("rabbitmqctl", "start_app"), ("rabbitmq-diagnostics", "-q", "check_running"))
        clock.healed = time.monotonic()
    return clock


def _pg_version() -> str:
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        raise RuntimeError("no cluster under /etc/postgresql")
    return versions[-1]


def _pg(action: str) -> tuple[str, ...]:
    return ("pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), "main", action)


async def postgresql_restart() -> FaultClock:
    """Stop the PostgreSQL cluster (fast mode), a short outage, start it (in the finally)."""
    clock = FaultClock(injected=time.monotonic())
    try:
        await asyncio.to_thread(_run, *_pg("stop"), timeout=90)
        await asyncio.sleep(BACKEND_OUTAGE_SECONDS)
    finally:
        await _heal(_pg("start"), _pg("status"))
        clock.healed = time.monotonic()
    return clock
