"""Benchmark: ProviderCalls against sipp, call-manager in its own process.

1. A ProviderCall with 100 tel destinations, several runs: POST latency through the gateway,
   and the time from the POST until the 100th INVITE reached the carrier (sipp's own
   receive timestamps).
2. 200 calls answered and held 10 s (RTP silence flowing): call-manager's CPU (% of one
   core) and RSS over the hold.

Run: `.venv/bin/python services/call-manager/benchmarks/bench_providercalls.py`
Needs PostgreSQL and RabbitMQ (DATABASE_URL / AMQP_URL or the loopback defaults) and sipp.
Everything binds to 127.0.0.1, uses a throwaway database and queue prefix, and stops itself.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
from api_gateway.app import GatewayApp
from api_gateway.app import migrate as migrate_gateway
from api_gateway.settings import Settings as GatewaySettings
from call_manager.app import migrate as migrate_call_manager
from call_manager.settings import Settings as CallManagerSettings
from provider_manager.app import ProviderManagerApp
from provider_manager.app import migrate as migrate_provider_manager
from provider_manager.settings import Settings as ProviderManagerSettings
from shared.db import async_url
from shared.logging import configure_logging
from shared.settings import DEFAULT_AMQP_URL, DEFAULT_DATABASE_URL
from shared.sip.testing.sipp import SippProcess

HERE = Path(__file__).parent
RUNS = 5
FANOUT = 100
HELD = 200
HOLD_SECONDS = 10.0
PASSWORD = "bench-admin-password"


def _db(server: str, name: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(server)._replace(path=f"/{name}").geturl()


def first_invites(sipp: SippProcess) -> dict[str, float]:
    """Call-ID -> wall-clock time sipp first received its INVITE (its -trace_msg stamps);
    retransmissions are not new INVITEs."""
    seen: dict[str, float] = {}
    for invite in sipp.received("INVITE"):
        call_id = invite.header("Call-ID")
        if call_id and invite.at is not None:
            seen.setdefault(call_id, invite.at)
    return seen


async def wait_for(probe: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise SystemExit(f"benchmark gave up waiting for {what}")


async def count_calls(db: str, status: str) -> int:
    conn = await asyncpg.connect(async_url(db).replace("+asyncpg", ""))
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM call_manager.calls WHERE status = $1", status)
        )
    finally:
        await conn.close()


async def main() -> None:
    configure_logging("bench", "WARNING")
    server = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    amqp = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)
    run = uuid.uuid4().hex[:8]
    db = _db(server, f"bench_{run}")
    env: dict[str, Any] = {"DATABASE_URL": db, "AMQP_URL": amqp, "QUEUE_PREFIX": f"bench-{run}"}
    # Migrations run their own event loop: off this one.
    await asyncio.to_thread(migrate_provider_manager, ProviderManagerSettings.model_validate(env))
    await asyncio.to_thread(migrate_gateway, GatewaySettings.model_validate(env))
    await asyncio.to_thread(migrate_call_manager, CallManagerSettings.model_validate(env))

    workdir = Path(tempfile.mkdtemp(prefix="bench-calls-"))
    child_env = {
        **os.environ,
        **{k: str(v) for k, v in env.items()},
        "CALL_MANAGER_OPS_PORT": "0",
        "CALL_MANAGER_SIP_HOST": "127.0.0.1",
        "CALL_MANAGER_SIP_PORT": "0",
        "LOG_LEVEL": "WARNING",
    }
    log_file = await asyncio.to_thread((workdir / "call-manager.log").open, "wb")
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "call_manager",
        "serve",
        env=child_env,
        stdout=log_file,
        stderr=log_file,
    )
    providers = ProviderManagerApp(
        ProviderManagerSettings.model_validate({**env, "PROVIDER_MANAGER_OPS_PORT": 0})
    )
    gateway = GatewayApp(
        GatewaySettings.model_validate(
            {
                **env,
                "GATEWAY_PORT": 0,
                "GATEWAY_OPS_PORT": 0,
                "ADMIN_USERNAME": "admin",
                "ADMIN_PASSWORD": PASSWORD,
                "JWT_SECRET": uuid.uuid4().hex * 2,
            }
        )
    )
    await providers.start()
    await gateway.start()
    try:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{gateway.port}") as http:
            async with http.post(
                "/auth/login", json={"username": "admin", "password": PASSWORD}
            ) as resp:
                headers = {"Authorization": f"Bearer {(await resp.json())['token']}"}

            async def ready() -> bool:
                async with http.get("/v1.0/calls?page_size=1", headers=headers) as resp:
                    return resp.status == 200

            await wait_for(ready, 30, "call-manager to serve")
            process = psutil.Process(child.pid)
            await setup_phase(http, headers, workdir)
            await hold_phase(http, headers, workdir, db, process)
    finally:
        await gateway.stop()
        await providers.stop()
        child.send_signal(2)
        try:
            await asyncio.wait_for(child.wait(), 20)
        except TimeoutError:
            child.kill()
            await child.wait()
        log_file.close()
        admin = await asyncpg.connect(async_url(_db(server, "postgres")).replace("+asyncpg", ""))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "bench_{run}" WITH (FORCE)')
        finally:
            await admin.close()


async def provider_for(http: aiohttp.ClientSession, headers: dict[str, str], target: str) -> str:
    body = {"type": "sip", "hostname": target, "name": "bench"}
    async with http.post("/v1.0/providers", json=body, headers=headers) as resp:
        return str((await resp.json())["id"])


def fanout_body(provider_id: str, base: int, count: int, **extra: Any) -> dict[str, Any]:
    return {
        "provider_id": provider_id,
        "source": {"type": "tel", "target": "+14155551234"},
        "destinations": [{"type": "tel", "target": f"+1555{base + i:07d}"} for i in range(count)],
        **extra,
    }


async def setup_phase(http: aiohttp.ClientSession, headers: dict[str, str], workdir: Path) -> None:
    latencies: list[float] = []
    spreads: list[float] = []
    scenario = HERE / "scenarios" / "uas_busy_fast.xml"
    async with SippProcess(workdir / "fanout", scenario=scenario, max_runtime=300) as carrier:
        provider_id = await provider_for(http, headers, carrier.target)
        known: set[str] = set()
        for n in range(RUNS):
            body = fanout_body(provider_id, n * FANOUT, FANOUT)
            posted_at = time.time()
            started = time.perf_counter()
            async with http.post("/v1.0/providercalls", json=body, headers=headers) as resp:
                assert resp.status == 200, await resp.text()
                await resp.read()
            latencies.append((time.perf_counter() - started) * 1000)

            async def all_in(known: set[str] = known) -> list[float] | None:
                fresh = [t for cid, t in first_invites(carrier).items() if cid not in known]
                return fresh if len(fresh) >= FANOUT else None

            times = await wait_for(all_in, 30, "100 INVITEs")
            spreads.append((max(times) - posted_at) * 1000)
            known = set(first_invites(carrier))
            await asyncio.sleep(2.0)  # let the 486s and their events settle between runs
    print(f"POST /v1.0/providercalls with {FANOUT} tel destinations, {RUNS} runs")
    print(f"  POST latency ms: p50 {statistics.median(latencies):.1f}  all {_fmt(latencies)}")
    print(
        f"  POST -> 100th INVITE at the carrier ms: p50 {statistics.median(spreads):.1f}  "
        f"all {_fmt(spreads)}"
    )


async def hold_phase(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    workdir: Path,
    db: str,
    process: psutil.Process,
) -> None:
    scenario = HERE / "scenarios" / "uas_answer_hold.xml"
    hold_ms = int((HOLD_SECONDS + 4) * 1000)
    async with SippProcess(workdir / "hold", scenario=scenario, max_runtime=300) as carrier:
        provider_id = await provider_for(http, headers, carrier.target)
        rss_before = process.memory_info().rss
        actions = [{"type": "pause", "option": {"duration": hold_ms}}]
        for batch in range(HELD // FANOUT):
            body = fanout_body(provider_id, 900000 + batch * FANOUT, FANOUT, actions=actions)
            async with http.post("/v1.0/providercalls", json=body, headers=headers) as resp:
                assert resp.status == 200, await resp.text()

        async def answered() -> bool:
            return await count_calls(db, "progressing") >= HELD

        await wait_for(answered, 60, f"{HELD} answered calls")
        before = process.cpu_times()
        started = time.monotonic()
        await asyncio.sleep(HOLD_SECONDS - 2)
        after = process.cpu_times()
        elapsed = time.monotonic() - started
        rss = process.memory_info().rss
        still = await count_calls(db, "progressing")

        async def over() -> bool:
            return await count_calls(db, "hangup") >= HELD + RUNS * FANOUT

        await wait_for(over, 60, "the held calls to end")
    cpu = (after.user + after.system - before.user - before.system) / elapsed * 100
    print(f"{HELD} answered calls held (RTP silence every 20 ms), {elapsed:.1f} s window")
    print(
        f"  call-manager CPU: {cpu:.1f}% of one core; RSS {rss / 1e6:.1f} MB; "
        f"calls still up at the window's end: {still}"
    )
    # Issue 14: memory per live call, from the growth over the process before these calls.
    per_thousand = (rss - rss_before) / max(still, 1) * 1000 / 1e6
    print(
        f"  RSS per 1,000 live calls: {per_thousand:.1f} MB "
        f"({rss_before / 1e6:.1f} MB before the {HELD} calls, {rss / 1e6:.1f} MB while held)"
    )


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.0f}" for v in values) + "]"


if __name__ == "__main__":
    asyncio.run(main())
