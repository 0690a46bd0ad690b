"""Two replicas of every service as real processes (`python -m <pkg> serve`), as
scripts/run_platform.py starts them, against a database and queue prefix of their own.

Replica "b" of every service reaches RabbitMQ through a TcpProxy of its own, so one replica
can be cut off from the broker while everything else keeps its connection. Every process is
started and ended by its PID; logs go to files in the run's folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
from shared.db import async_url
from shared.migrations import DatabaseUnavailable

from tests.support.backends import with_database
from tests.support.tcp_proxy import TcpProxy

SERVICES = ("provider-manager", "call-manager", "health-checker", "api-gateway")
OPS_PORT_SETTING = {
    "provider-manager": "PROVIDER_MANAGER_OPS_PORT",
    "call-manager": "CALL_MANAGER_OPS_PORT",
    "health-checker": "HEALTH_CHECKER_OPS_PORT",
    "api-gateway": "GATEWAY_OPS_PORT",
}
ADMIN_PASSWORD = "chaos-admin-password"
JWT_SECRET = f"chaos-jwt-secret-{uuid.uuid4().hex}"
# A valid 32-byte key for provider-manager's credential encryption (throwaway).
CREDENTIALS_KEY = "Y2hhb3MtY2hhb3MtY2hhb3MtY2hhb3MtY2hhb3MtMDE="

# Fast timers so a run stays short; the figures name them (see Platform.settings_note).
CALL_MANAGER_ENV = {
    "CALL_MANAGER_SIP_HOST": "127.0.0.1",
    "CALL_MANAGER_SIP_PORT": "0",
    "CALL_RING_TIMEOUT": "8",
    "CALL_MAX_DURATION": "8",
    "CALL_MANAGER_SIP_T1": "0.1",
    "CALL_MANAGER_HEARTBEAT_INTERVAL": "1",
    "CALL_MANAGER_REPLICA_DEAD_AFTER": "5",
    "CALL_MANAGER_REAPER_INTERVAL": "1",
    "CALL_MANAGER_DNS_SERVERS": "127.0.0.1:9",
}
HEALTH_CHECKER_ENV = {
    "HEALTH_CHECK_INTERVAL": "5",
    "HEALTH_CHECK_TIMEOUT": "2",
    "HEALTH_CHECK_POLL_INTERVAL": "0.5",
    "HEALTH_CHECK_DNS_SERVERS": "127.0.0.1:9",
    "HEALTH_CHECK_SIP_HOST": "127.0.0.1",
}


def free_port() -> int:
    """A free TCP port below the kernel's ephemeral range, so no outgoing connection of
    another process takes it between now and the replica's bind (a restarted replica binds
    the same port again)."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port found")


def module(service: str) -> str:
    return service.replace("-", "_")


@dataclass
class Replica:
    service: str
    name: str  # "a" or "b"
    env: dict[str, str]
    ops_port: int
    log_path: Path
    proxy: TcpProxy | None = None
    process: asyncio.subprocess.Process | None = None
    http_port: int = 0  # gateways only
    started_at: float = 0.0
    restarts: int = 0
    crashes: int = 0  # exits we did not cause, restarted by the supervisor
    held: bool = False  # kept down on purpose (a kill -9 scenario): not restarted
    cpu_samples: list[tuple[float, float, int]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.service}/{self.name}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def replica_id(self) -> str:
        """call-manager's replica id of the current process: each start is a new replica,
        as a replaced pod would be, so survivors must take over the previous one's calls."""
        return f"chaos-{self.name}-{self.restarts + self.crashes}"

    async def start(self) -> None:
        if self.service == "call-manager":
            self.env["CALL_MANAGER_REPLICA_ID"] = self.replica_id
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                module(self.service),
                "serve",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            os.close(log)  # the child has its own copy
        self.started_at = time.monotonic()

    def kill9(self) -> None:
        if self.alive:
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self, timeout: float = 10.0) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            await process.wait()

    async def ready(self, session: aiohttp.ClientSession) -> bool:
        if not self.alive:
            return False
        try:
            async with session.get(
                f"http://127.0.0.1:{self.ops_port}/readyz", timeout=aiohttp.ClientTimeout(total=1)
            ) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    def usage(self) -> tuple[float, int] | None:
        """(CPU seconds so far, RSS bytes) of the process, None when it is gone."""
        if not self.alive:
            return None
        assert self.process is not None
        try:
            proc = psutil.Process(self.process.pid)
            times = proc.cpu_times()
            return times.user + times.system, proc.memory_info().rss
        except psutil.Error:
            return None


class Platform:
    def __init__(self, workdir: Path, server_url: str, amqp_url: str) -> None:
        self.workdir = workdir
        self.run_id = uuid.uuid4().hex[:8]
        self.server_url = server_url
        self.amqp_url = amqp_url
        self.database = f"voip_chaos_{self.run_id}"
        self.database_url = with_database(server_url, self.database)
        self.queue_prefix = f"chaos-{self.run_id}"
        self.default_route_customer = str(uuid.uuid4())
        self.replicas: list[Replica] = []
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def settings_note(self) -> str:
        cm, hc = CALL_MANAGER_ENV, HEALTH_CHECKER_ENV
        return (
            f"call-manager heartbeat {cm['CALL_MANAGER_HEARTBEAT_INTERVAL']} s, dead after "
            f"{cm['CALL_MANAGER_REPLICA_DEAD_AFTER']} s, reaper "
            f"{cm['CALL_MANAGER_REAPER_INTERVAL']} s, max duration {cm['CALL_MAX_DURATION']} s; "
            f"health-checker interval "
            f"{hc['HEALTH_CHECK_INTERVAL']} s, timeout {hc['HEALTH_CHECK_TIMEOUT']} s"
        )

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "CALL_"))}
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "AMQP_URL": self.amqp_url,
                "QUEUE_PREFIX": self.queue_prefix,
                "LOG_LEVEL": os.environ.get("CHAOS_LOG_LEVEL", "WARNING"),
                "OPS_HOST": "127.0.0.1",
                "PYTHONUNBUFFERED": "1",
                # Eight processes share a PostgreSQL whose max_connections other suites
                # use too: a small pool each (production sizes it per replica count).
                "DB_POOL_SIZE": os.environ.get("CHAOS_DB_POOL_SIZE", "2"),
            }
        )
        return env

    def migrate(self) -> None:
        """Every schema, in this process (each service's own migrate function)."""
        import importlib

        saved = dict(os.environ)
        os.environ.update({"DATABASE_URL": self.database_url})
        try:
            for service in SERVICES:
                app = importlib.import_module(f"{module(service)}.app")
                settings = importlib.import_module(f"{module(service)}.settings")
                app.migrate(settings.Settings())
        finally:
            os.environ.clear()
            os.environ.update(saved)

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for attempt in range(20):
            try:
                await asyncio.to_thread(self.migrate)
                break
            except DatabaseUnavailable:
                # The shared server may be out of connections for a moment (other suites).
                if attempt == 19:
                    raise
                await asyncio.sleep(3.0)
        for service in SERVICES:
            for name in ("a", "b"):
                replica = await self._replica(service, name)
                self.replicas.append(replica)
        for replica in self.replicas:
            await replica.start()
        self._supervisor = asyncio.create_task(self._supervise())
        await self.wait_ready(120)

    async def _supervise(self) -> None:
        """Restart a replica that exited on its own, a second later (a kubelet would too),
        e.g. when the shared PostgreSQL refused it a connection at start."""
        while True:
            await asyncio.sleep(0.5)
            for replica in self.replicas:
                if replica.process is not None and not replica.alive and not replica.held:
                    replica.crashes += 1
                    await asyncio.sleep(1.0)
                    if not replica.alive and not replica.held:
                        await replica.start()

    async def _replica(self, service: str, name: str) -> Replica:
        env = self.base_env()
        ops_port = free_port()
        env[OPS_PORT_SETTING[service]] = str(ops_port)
        proxy = None
        if name == "b":
            proxy = TcpProxy.for_url(self.amqp_url)
            await proxy.start()
            env["AMQP_URL"] = proxy.url(self.amqp_url)
        replica = Replica(service, name, env, ops_port, self.workdir / f"{service}-{name}.log")
        replica.proxy = proxy
        if service == "api-gateway":
            replica.http_port = free_port()
            env.update(
                {
                    "GATEWAY_HOST": "127.0.0.1",
                    "GATEWAY_PORT": str(replica.http_port),
                    "JWT_SECRET": JWT_SECRET,
                    "ADMIN_USERNAME": "admin",
                    "ADMIN_PASSWORD": ADMIN_PASSWORD,
                }
            )
        elif service == "provider-manager":
            env["PROVIDER_CREDENTIALS_KEY"] = CREDENTIALS_KEY
            env["PROVIDER_MANAGER_DEFAULT_ROUTE_CUSTOMER_ID"] = self.default_route_customer
        elif service == "call-manager":
            env.update(CALL_MANAGER_ENV)
        elif service == "health-checker":
            env.update(HEALTH_CHECKER_ENV)
        return replica

    def of(self, service: str) -> list[Replica]:
        return [r for r in self.replicas if r.service == service]

    def replica(self, label: str) -> Replica:
        return next(r for r in self.replicas if r.label == label)

    async def busiest_call_manager(self) -> Replica:
        """The call-manager replica owning the most live calls now (the worst one to lose)."""
        url = async_url(self.database_url).replace("+asyncpg", "")
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT owner_replica, count(*) AS n FROM call_manager.calls "
                "WHERE status <> 'hangup' GROUP BY owner_replica"
            )
        finally:
            await conn.close()
        live = {row["owner_replica"]: row["n"] for row in rows}
        return max(self.of("call-manager"), key=lambda r: live.get(r.replica_id, 0))

    async def wait_ready(self, timeout: float, replicas: list[Replica] | None = None) -> float:
        """Seconds until every (given) replica answers /readyz with 200."""
        wanted = replicas if replicas is not None else self.replicas
        start = time.monotonic()
        async with aiohttp.ClientSession() as session:
            while True:
                states = await asyncio.gather(*(r.ready(session) for r in wanted))
                if all(states):
                    return time.monotonic() - start
                if time.monotonic() - start > timeout:
                    late = [r.label for r, ok in zip(wanted, states, strict=True) if not ok]
                    raise RuntimeError(
                        f"not ready after {timeout:.0f} s: {', '.join(late)}; see {self.workdir}"
                    )
                await asyncio.sleep(0.2)

    async def restart(self, replica: Replica) -> None:
        await replica.stop()
        replica.restarts += 1
        await replica.start()

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for service in reversed(SERVICES):
            await asyncio.gather(*(r.stop() for r in self.of(service)))
        for replica in self.replicas:
            if replica.proxy is not None:
                await replica.proxy.stop()

    async def drop(self) -> None:
        admin = async_url(with_database(self.server_url, "postgres")).replace("+asyncpg", "")
        for attempt in range(20):
            try:
                conn = await asyncpg.connect(admin)
                break
            except (OSError, asyncpg.PostgresError):
                if attempt == 19:
                    raise
                await asyncio.sleep(3.0)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await conn.close()

    def describe(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "queue_prefix": self.queue_prefix,
            "replicas": [r.label for r in self.replicas],
        }
