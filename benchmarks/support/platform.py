"""The platform as child processes for the benchmarks: each service is `python -m <package>`
on loopback with a throwaway database and queue prefix, logs in a folder of the benchmark's,
and is stopped by its own PID. Also the CPU time of those processes and of the shared
RabbitMQ and PostgreSQL, which the benchmarks report per request or call.

Benchmark scripts run as files: they put the repository root on sys.path to import this."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import psutil
from shared.settings import DEFAULT_AMQP_URL, DEFAULT_DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ADMIN_USERNAME = "admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_database(url: str, name: str) -> str:
    """`url` naming database `name` instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def asyncpg_url(url: str) -> str:
    """A SQLAlchemy asyncpg URL as asyncpg itself takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each of `pids` and of the shared RabbitMQ and PostgreSQL (read
    only: where the rest of the CPU goes)."""
    out: dict[str, float] = {}
    for name, pid in pids.items():
        try:
            times = psutil.Process(pid).cpu_times()
            out[name] = times.user + times.system
        except psutil.Error:
            out[name] = float("nan")
    for label, proc_name in (("rabbitmq", "beam.smp"), ("postgres", "postgres")):
        total = 0.0
        for proc in psutil.process_iter(["name"]):
            if proc.info["name"] == proc_name:
                try:
                    times = proc.cpu_times()
                    total += times.user + times.system
                except psutil.Error:
                    continue
        out[label] = total
    return out


class ChildPlatform:
    """Services as child processes, on a database and queue prefix of their own."""

    def __init__(
        self,
        label: str,
        logdir: Path,
        settings: dict[str, str] | None = None,
        admin_password: str = "bench-admin-password",
    ) -> None:
        tag = uuid.uuid4().hex[:10]
        self.base_db = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
        self.db_name = f"voip_bench_{label}_{tag}"
        self.database_url = with_database(self.base_db, self.db_name)
        self.amqp_url = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)
        self.queue_prefix = f"bench-{label}-{tag}"
        self.gateway_port = free_port()
        self.admin_password = admin_password
        self.logdir = logdir
        self.env: dict[str, str] = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "AMQP_URL": self.amqp_url,
            "QUEUE_PREFIX": self.queue_prefix,
            "LOG_LEVEL": "WARNING",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(self.gateway_port),
            "JWT_SECRET": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "ADMIN_USERNAME": ADMIN_USERNAME,
            "ADMIN_PASSWORD": admin_password,
            **(settings or {}),
        }
        # Where `start` writes cProfile output of each service (None: no profiling).
        self.profile_dir: Path | None = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def migrate(self, *packages: str) -> None:
        for package in packages:
            subprocess.run(
                [PYTHON, "-m", package, "migrate"],
                env=self.env,
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )

    def start(self, name: str, args: list[str], *, profile: bool = True) -> None:
        """`python *args` as `name`, its output in logdir/name.log."""
        command = [PYTHON, *args]
        if self.profile_dir is not None and profile:
            out = self.profile_dir / f"{name}.prof"
            command = [PYTHON, "-m", "cProfile", "-o", str(out), *args]
        self.logdir.mkdir(parents=True, exist_ok=True)
        with self.log_file(name).open("wb") as sink:
            self.procs[name] = subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
            )

    def serve(self, *services: str) -> None:
        """`python -m <package> serve` for each service ("api-gateway", ...)."""
        for name in services:
            self.start(name, ["-m", name.replace("-", "_"), "serve"])

    def log_file(self, name: str) -> Path:
        return self.logdir / f"{name}.log"

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = self.log_file(name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self, timeout: float = 20.0) -> None:
        for name, proc in reversed(list(self.procs.items())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    print(f"{name} did not stop in {timeout:g} s; killing pid {proc.pid}")
                    proc.kill()
                    proc.wait()

    async def wait_http(self, url: str, timeout: float = 60.0) -> None:
        """Until GET `url` answers 200 (while every child stays alive)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                self.check_alive()
                try:
                    async with session.get(url) as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} not ready in {timeout:g} s")
                await asyncio.sleep(0.2)

    async def login(self, http: aiohttp.ClientSession) -> dict[str, str]:
        """The admin's Authorization header (`http` based at the gateway)."""
        body = {"username": ADMIN_USERNAME, "password": self.admin_password}
        async with http.post("/auth/login", json=body) as resp:
            resp.raise_for_status()
            return {"Authorization": f"Bearer {(await resp.json())['token']}"}

    async def drop_database(self) -> None:
        conn = await asyncpg.connect(asyncpg_url(with_database(self.base_db, "postgres")))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        finally:
            await conn.close()
