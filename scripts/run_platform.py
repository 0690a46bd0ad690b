"""`make run`: check the backends, migrate every service, then run them all in the foreground.

Each service is a child process; their JSON logs are shown as readable lines. Ctrl-C (or a
child that dies) stops every child by its PID.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from provider_manager.credentials import new_key_text
from shared.broker import BrokerUnavailable, connect, mask_url
from shared.migrations import DatabaseUnavailable
from shared.settings import CommonSettings

SERVICES = ["provider-manager", "call-manager", "health-checker", "api-gateway"]
COLORS = {
    "provider-manager": "\033[36m",
    "call-manager": "\033[35m",
    "health-checker": "\033[33m",
    "api-gateway": "\033[32m",
}
RESET = "\033[0m"
LEVEL_MARK = {"debug": " ", "info": " ", "warning": "!", "error": "E", "critical": "E"}


def module(service: str) -> str:
    return service.replace("-", "_")


async def check_backends(settings: CommonSettings) -> None:
    db = urlsplit(settings.database_url)
    try:
        with socket.create_connection((db.hostname or "127.0.0.1", db.port or 5432), 3):
            pass
    except OSError as exc:
        raise DatabaseUnavailable(
            f"PostgreSQL is unreachable at {db.hostname}:{db.port or 5432} (DATABASE_URL) "
            f"({exc}). Start it, e.g. `pg_ctlcluster 15 main start`, or set DATABASE_URL."
        ) from exc
    connection = await connect(settings.amqp_url, "make-run-check", timeout=5)
    await connection.close()


def migrate_all() -> None:
    """Each service's own migrations (own schema, own version table), in this process."""
    for service in SERVICES:
        app = importlib.import_module(f"{module(service)}.app")
        settings = importlib.import_module(f"{module(service)}.settings")
        app.migrate(settings.Settings())
        print(f"migrated {service}", flush=True)


def readable(service: str, line: str) -> str:
    color = COLORS.get(service, "") if sys.stdout.isatty() else ""
    reset = RESET if color else ""
    try:
        record = json.loads(line)
    except ValueError:
        return f"{color}{service:>16}{reset} | {line}"
    if not isinstance(record, dict):
        return f"{color}{service:>16}{reset} | {line}"
    stamp = str(record.pop("timestamp", ""))[11:23]
    level = str(record.pop("level", "info"))
    event = record.pop("event", "")
    record.pop("service", None)
    extras = " ".join(f"{k}={v}" for k, v in record.items())
    mark = LEVEL_MARK.get(level, "?")
    return f"{color}{service:>16}{reset} {stamp} {mark} {event} {extras}".rstrip()


async def pump(service: str, stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        print(readable(service, line.decode(errors="replace").rstrip()), flush=True)


async def run_all(
    env: dict[str, str] | None = None,
    companion: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> int:
    """Run every service until Ctrl-C (or one dies). `env` is added to the children's
    environment; `companion` runs beside them (`make demo` seeds the platform with it):
    the platform stops when it returns (exit 0) or fails (exit 1)."""
    children: dict[str, asyncio.subprocess.Process] = {}
    pumps: list[asyncio.Task[None]] = []
    child_env = {**os.environ, **env} if env else None
    for service in SERVICES:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module(service),
            "serve",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            # Children ignore the terminal's Ctrl-C; we stop them ourselves, in order.
            start_new_session=True,
            env=child_env,
        )
        children[service] = proc
        assert proc.stdout is not None
        pumps.append(asyncio.create_task(pump(service, proc.stdout)))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waits = {asyncio.create_task(p.wait()): name for name, p in children.items()}
    stopper = asyncio.create_task(stop.wait())
    beside = asyncio.create_task(companion()) if companion is not None else None
    watched: list[asyncio.Task[Any]] = [*waits, stopper, *([beside] if beside else [])]
    done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if beside is not None:
        if beside in done and (beside.cancelled() or beside.exception() is not None):
            print(f"stopping the platform: {beside.exception()!r}")
            code = 1
        beside.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await beside
    for task in done:
        if task in waits:
            print(f"{waits[task]} exited with code {task.result()}; stopping the platform")
            code = 1
    for name in reversed(SERVICES):
        proc = children[name]
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
    for name, proc in children.items():
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            print(f"{name} did not stop in 10 s; killing PID {proc.pid}")
            proc.kill()
            await proc.wait()
    for pump_task in pumps:
        pump_task.cancel()
    stopper.cancel()
    print("platform stopped")
    return code


# `make run` keeps provider passwords under this key (generated once, owner-only); a
# deployment sets PROVIDER_CREDENTIALS_KEY or _KEY_FILE itself (see the README).
LOCAL_KEY_FILE = Path("run/provider-credentials.key")


def ensure_local_credentials_key() -> None:
    if os.environ.get("PROVIDER_CREDENTIALS_KEY") or os.environ.get(
        "PROVIDER_CREDENTIALS_KEY_FILE"
    ):
        return
    if not LOCAL_KEY_FILE.exists():
        LOCAL_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(LOCAL_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(new_key_text() + "\n")
        print(f"generated the provider-password key {LOCAL_KEY_FILE} (keep it with the database)")
    os.environ["PROVIDER_CREDENTIALS_KEY_FILE"] = str(LOCAL_KEY_FILE.resolve())


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--migrate-only", action="store_true")
    args = parser.parse_args()
    settings = CommonSettings()
    try:
        await check_backends(settings)
    except (DatabaseUnavailable, BrokerUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    await asyncio.to_thread(migrate_all)
    if args.migrate_only:
        return 0
    ensure_local_credentials_key()
    host = os.environ.get("GATEWAY_HOST", "127.0.0.1")
    port = os.environ.get("GATEWAY_PORT", "8080")
    print(
        f"starting the platform: gateway on http://{host}:{port} "
        f"(PostgreSQL {mask_url(settings.database_url)}, RabbitMQ {mask_url(settings.amqp_url)}); "
        "Ctrl-C stops everything"
    )
    return await run_all()


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
