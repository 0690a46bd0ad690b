"""Abuse-guard benchmark (issue 11), on loopback against the local PostgreSQL and RabbitMQ.

1. Login throttle: how many login attempts per second one client address gets answered
   against a throttled account (all 429, no password hash), next to the rate of wrong-
   password attempts that each cost an argon2 check (throttle out of the way). The figure
   that matters for an attacker is the guesses evaluated: 5 per username per 15 minutes,
   spaced by the growing delay.
2. The per-call limit checks POST /v1.0/calls adds (verified caller IDs, fair-share lock and
   counts: one call of call_manager.admit_calls in the insert transaction), timed directly
   over many calls: p50 and p99 per call (target: p50 under 1 ms), next to an empty
   transaction's time on the same machine (the ratio is what survives a loaded machine).

    python benchmarks/bench_abuse.py                 # defaults
    BENCH_ATTEMPTS=300 BENCH_CALLS=300 python benchmarks/bench_abuse.py

A fresh database `voip_bench_abuse_<hex>` is used and dropped at the end. Prints figures and
met/missed; asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_gateway.accounts import AccountStore  # noqa: E402
from api_gateway.app import GatewayApp  # noqa: E402
from api_gateway.app import migrate as migrate_gateway  # noqa: E402
from api_gateway.permissions import Permission  # noqa: E402
from api_gateway.settings import Settings as GatewaySettings  # noqa: E402
from call_manager.app import migrate as migrate_call_manager  # noqa: E402
from call_manager.policy.caller_ids import CallerIds  # noqa: E402
from call_manager.policy.fair_share import CustomerLimits, FairShare  # noqa: E402
from call_manager.policy.guard import admit  # noqa: E402
from call_manager.settings import Settings as CallManagerSettings  # noqa: E402
from shared.contracts.caller_ids import CallerIdCreate  # noqa: E402
from shared.contracts.calls import SourceAddress  # noqa: E402
from shared.db import create_engine, session_factory  # noqa: E402
from shared.logging import configure_logging  # noqa: E402
from shared.settings import DEFAULT_AMQP_URL, DEFAULT_DATABASE_URL  # noqa: E402
from sqlalchemy import text  # noqa: E402

from benchmarks.support.platform import with_database  # noqa: E402

ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", "600"))
CALLS = int(os.environ.get("BENCH_CALLS", "500"))
CONCURRENCY = 16
TARGET_P50_MS = 1.0


async def _attempts(
    http: aiohttp.ClientSession, username: str, password: str, count: int
) -> tuple[float, float, dict[int, int]]:
    """`count` logins, CONCURRENCY at a time: (wall seconds, CPU seconds, statuses)."""
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        body = {"username": username, "password": password}
        while not queue.empty():
            queue.get_nowait()
            async with http.post("/auth/login", json=body) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - wall, time.process_time() - cpu, statuses


async def bench_login(env: dict[str, Any]) -> None:
    settings = GatewaySettings.model_validate(
        {
            **env,
            "GATEWAY_PORT": 0,
            "GATEWAY_OPS_PORT": 0,
            "ADMIN_PASSWORD": "bench-admin-password",
            "JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        }
    )
    app = GatewayApp(settings)
    await app.start()
    try:
        store = AccountStore(app.sessions)
        locked, open_ = f"locked-{uuid.uuid4().hex[:6]}", f"open-{uuid.uuid4().hex[:6]}"
        for name in (locked, open_):
            await store.create_account(name, "right-password-1", Permission.CUSTOMER_ADMIN)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{app.port}") as http:
            # Throttled: five failures, then everything from this address is 429.
            wall, cpu, statuses = await _attempts(http, locked, "wrong-password", ATTEMPTS)
            rate = ATTEMPTS / wall
            print(
                f"login, throttled account, one address: {rate:.0f} attempts/s answered "
                f"({cpu / ATTEMPTS * 1000:.2f} ms CPU each, client included); statuses {statuses}"
            )
            delays = [settings.login_delay_seconds * 2**n for n in range(3)]
            print(
                "  password guesses evaluated: 5 per username (and per address) per 15 min, "
                f"the 5th no sooner than {sum(delays):g} s after the 1st (delays "
                f"{', '.join(f'{d:g}' for d in delays)} s); parallel guesses: 2 checked"
            )
            # Unthrottled (each attempt an argon2 check): clear the counts between rounds;
            # only the attempts that got a hash (401) count.
            hashed, total_wall = 0, 0.0
            for _ in range(5):
                async with app.engine.begin() as conn:
                    await conn.execute(text("DELETE FROM api_gateway.login_failures"))
                w, _, round_statuses = await _attempts(http, open_, "wrong-password", 4)
                hashed += round_statuses.get(401, 0)
                total_wall += w
            print(
                f"login, wrong password with a hash each (for scale): {hashed / total_wall:.1f} "
                f"attempts/s on {settings.password_hash_workers} hash workers"
            )
    finally:
        await app.stop()


async def bench_limit_checks(env: dict[str, Any]) -> None:
    engine = create_engine(env["DATABASE_URL"], pool_size=4)
    sessions = session_factory(engine)
    try:
        caller_ids = CallerIds(sessions)
        fair = FairShare(CustomerLimits(max_calls=10**6, max_new_per_second=10**6))
        customer = str(uuid.uuid4())
        await caller_ids.create(
            str(uuid.uuid4()), CallerIdCreate(customer_id=customer, pattern="+1415555*")
        )
        source = SourceAddress.model_validate({"type": "tel", "target": "+14155550000"})
        checks: list[float] = []
        baseline: list[float] = []
        added_cpu = 0.0
        for i in range(CALLS):
            started, cpu = time.perf_counter(), time.process_time()
            async with sessions() as session, session.begin():
                await session.execute(text("SELECT 1"))
            empty, empty_cpu = time.perf_counter() - started, time.process_time() - cpu
            started, cpu = time.perf_counter(), time.process_time()
            async with sessions() as session, session.begin():
                await session.execute(text("SELECT 1"))
                await admit(session, fair, customer, source, 1)
            checks.append(time.perf_counter() - started - empty)
            baseline.append(empty)
            if i == 0:
                checks.clear()  # the first pays for statement preparation
                baseline.clear()
            else:
                added_cpu += time.process_time() - cpu - empty_cpu
        checks.sort()
        p50 = statistics.median(checks) * 1000
        p99 = checks[int(len(checks) * 0.99) - 1] * 1000
        empty_p50 = statistics.median(baseline) * 1000
        verdict = "met" if p50 < TARGET_P50_MS else "missed"
        print(
            f"limit checks per call (caller ID + fair share: 1 statement), {len(checks)} calls: "
            f"added p50 {p50:.3f} ms, p99 {p99:.3f} ms; an empty transaction here takes "
            f"p50 {empty_p50:.3f} ms (ratio {p50 / empty_p50:.2f}); added client CPU "
            f"{added_cpu / len(checks) * 1000:.3f} ms per call -> target p50 < {TARGET_P50_MS} ms "
            f"{verdict}"
        )
    finally:
        await engine.dispose()


async def main() -> None:
    configure_logging("bench", "WARNING")
    base = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    name = f"voip_bench_abuse_{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": with_database(base, name),
        "AMQP_URL": os.environ.get("AMQP_URL", DEFAULT_AMQP_URL),
        "QUEUE_PREFIX": f"bench-abuse-{uuid.uuid4().hex[:8]}",
    }
    await asyncio.to_thread(migrate_gateway, GatewaySettings.model_validate(env))
    await asyncio.to_thread(migrate_call_manager, CallManagerSettings.model_validate(env))
    try:
        await bench_login(env)
        await bench_limit_checks(env)
    finally:
        conn = await asyncpg.connect(with_database(base, "postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
