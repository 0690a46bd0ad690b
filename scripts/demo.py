"""`make demo`: the whole platform plus three sipp carriers, ready to look at in a browser.

Runs the services as `make run` does (scripts/run_platform.py), in a database and queue
prefix of its own (dropped and made again each time), with health checks every few seconds.
Then it starts three carriers on loopback (one answering, one busy, one silent), creates a
provider and a default route for each, and prints the console's address and the admin login.
It stops by itself after --minutes, or at Ctrl-C, stopping only the processes it started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import aiohttp
import asyncpg
from shared.broker import BrokerUnavailable
from shared.migrations import DatabaseUnavailable
from shared.settings import CommonSettings
from shared.sip.testing.sipp import SippProcess

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import carriers
from scripts.run_platform import SERVICES, check_backends, migrate_all, run_all

DATABASE = "voip_demo"
QUEUE_PREFIX = "demo"
WORKDIR = Path(__file__).resolve().parent.parent / "run" / "demo"
# (name, carrier, route prefix): a number starting with the prefix goes to that carrier.
CARRIERS = (
    ("Answering carrier (sipp)", carriers.answering, "+15551"),
    ("Busy carrier (sipp)", carriers.busy, "+15552"),
    ("Silent carrier (sipp)", carriers.silent, "+15553"),
)


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free TCP port")


def demo_env(database_url: str, port: int, password: str) -> dict[str, str]:
    return {
        "DATABASE_URL": urlsplit(database_url)._replace(path=f"/{DATABASE}").geturl(),
        "QUEUE_PREFIX": QUEUE_PREFIX,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": password,
        "JWT_SECRET": secrets.token_urlsafe(48),
        # Ephemeral ops and SIP ports: the demo runs beside `make run` or tests.
        "GATEWAY_OPS_PORT": "0",
        "PROVIDER_MANAGER_OPS_PORT": "0",
        "CALL_MANAGER_OPS_PORT": "0",
        "HEALTH_CHECKER_OPS_PORT": "0",
        "CALL_MANAGER_SIP_PORT": "0",
        "CALL_MANAGER_SIP_HOST": "127.0.0.1",
        # A newcomer should see health change in seconds, and a silent carrier fail fast.
        "HEALTH_CHECK_INTERVAL": "5",
        "HEALTH_CHECK_TIMEOUT": "2",
        "HEALTH_CHECK_POLL_INTERVAL": "0.5",
        "CALL_RING_TIMEOUT": "15",
        "LOG_LEVEL": "WARNING",
    }


async def recreate_database(database_url: str) -> None:
    """The demo's own database, empty: a fresh admin with this run's password."""
    admin_url = urlsplit(database_url)._replace(path="/postgres").geturl()
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        await conn.close()


async def purge_queues(amqp_url: str) -> None:
    """Durable queues of an earlier demo would replay its events into this fresh database."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for service in SERVICES:
            for kind in ("request", "subscribe"):
                with contextlib.suppress(Exception):
                    await channel.queue_delete(f"{QUEUE_PREFIX}.{service}.{kind}")
                if channel.is_closed:  # a failed delete closes the channel
                    channel = await connection.channel()


class Demo:
    def __init__(self, base: str, password: str, minutes: float) -> None:
        self.base = base
        self.password = password
        self.minutes = minutes
        self.sipps: list[SippProcess] = []

    async def run(self) -> None:
        """Seed the platform, tell the user where to look, then wait out the demo's time."""
        async with aiohttp.ClientSession(base_url=self.base) as http:
            await self._wait_for_gateway(http)
            token = await self._login(http)
            headers = {"Authorization": f"Bearer {token}"}
            made = []
            for name, start, prefix in CARRIERS:
                sipp = start(WORKDIR, max_runtime=self.minutes * 60 + 30)
                await sipp.start()
                self.sipps.append(sipp)
                provider = await self._post(
                    http,
                    headers,
                    "/v1.0/providers",
                    {"type": "sip", "hostname": sipp.target, "name": name},
                )
                await self._post(
                    http,
                    headers,
                    "/v1.0/routes",
                    {
                        "provider_id": provider["id"],
                        "target": prefix,
                        "priority": 1,
                        "name": f"{prefix}… via {name}",
                    },
                )
                made.append((name, sipp.target, prefix))
        self._banner(made)
        await asyncio.sleep(self.minutes * 60)  # then run_all stops the platform

    async def _wait_for_gateway(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get("/console/") as resp:
                    if resp.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway did not come up within 60 s")
            await asyncio.sleep(0.3)

    async def _login(self, http: aiohttp.ClientSession) -> str:
        body = {"username": "admin", "password": self.password}
        async with http.post("/auth/login", json=body) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"admin login failed: {data}")
            return str(data["token"])

    async def _post(
        self, http: aiohttp.ClientSession, headers: dict[str, str], path: str, body: Any
    ) -> dict[str, Any]:
        # provider-manager may still be starting: retry briefly on 503.
        for _ in range(40):
            async with http.post(path, json=body, headers=headers) as resp:
                data: dict[str, Any] = await resp.json()
                if resp.status == 200:
                    return data
                if resp.status not in (503, 504):
                    raise RuntimeError(f"POST {path} failed: {data}")
            await asyncio.sleep(0.5)
        raise RuntimeError(f"POST {path}: the platform is not answering")

    def _banner(self, made: list[tuple[str, str, str]]) -> None:
        lines = [
            "",
            "=" * 72,
            f"  Console:  {self.base}/console/",
            f"  Sign in:  admin / {self.password}",
            "",
            "  Carriers (sipp on loopback), each with a default route:",
            *(f"    {name:<26} {target:<18} numbers {prefix}…" for name, target, prefix in made),
            "",
            "  Within seconds the board shows the answering and busy carriers turn",
            "  healthy and the silent one unhealthy. Then open Test call, pick the",
            "  answering carrier and place the call: it rings, answers and hangs up.",
            f"  The demo stops after {self.minutes:g} minutes, or now with Ctrl-C.",
            "=" * 72,
            "",
        ]
        print("\n".join(lines), flush=True)

    async def stop(self) -> None:
        for sipp in self.sipps:
            if sipp.process is not None:
                with contextlib.suppress(Exception):
                    await sipp.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--port", type=int, default=8080, help="gateway port (else a free one)")
    args = parser.parse_args()
    settings = CommonSettings()
    try:
        await check_backends(settings)
    except (DatabaseUnavailable, BrokerUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    password = secrets.token_urlsafe(12)
    port = free_port(args.port)
    env = demo_env(settings.database_url, port, password)
    await recreate_database(settings.database_url)
    await purge_queues(settings.amqp_url)
    os.environ.update(env)  # the migrations read the same settings as the services
    await asyncio.to_thread(migrate_all)
    WORKDIR.mkdir(parents=True, exist_ok=True)
    demo = Demo(f"http://127.0.0.1:{port}", password, args.minutes)
    print(f"starting the demo platform on http://127.0.0.1:{port} (Ctrl-C stops everything)")
    try:
        return await run_all(env, demo.run)
    finally:
        await demo.stop()


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
