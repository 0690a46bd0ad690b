"""What every service process shares: DB engine, broker connection, RPC client, ops server,
and an orderly start/stop. A service subclasses ServiceApp and fills in on_start(); its
`python -m` entry point is run_service()."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import structlog
import uvloop
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.broker import connect
from shared.db import create_engine, session_factory
from shared.events.outbox import OutboxRelay
from shared.gc_tuning import tune_gc
from shared.logging import configure_logging
from shared.metrics import ReadinessCheck, start_ops_server
from shared.migrations import DatabaseUnavailable, _safe
from shared.rpc.client import RpcClient
from shared.settings import CommonSettings

log = structlog.get_logger("runtime")

Stopper = Callable[[], Awaitable[None]]
S = TypeVar("S", bound=CommonSettings)


class ServiceApp:
    name: str = "service"

    def __init__(self, settings: CommonSettings, ops_port: int) -> None:
        self.settings = settings
        self.ops_port = ops_port
        self._stoppers: list[Stopper] = []
        self._engine: AsyncEngine | None = None
        self._broker: AbstractRobustConnection | None = None
        self._rpc: RpcClient | None = None
        self.ops_runner: web.AppRunner | None = None

    @property
    def engine(self) -> AsyncEngine:
        assert self._engine is not None, "start() first"
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return session_factory(self.engine)

    @property
    def broker(self) -> AbstractRobustConnection:
        assert self._broker is not None, "start() first"
        return self._broker

    @property
    def rpc(self) -> RpcClient:
        assert self._rpc is not None, "start() first"
        return self._rpc

    def on_stop(self, stopper: Stopper) -> None:
        self._stoppers.append(stopper)

    async def start(self) -> None:
        self._engine = create_engine(self.settings.database_url, self.settings.db_pool_size)
        try:
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise DatabaseUnavailable(
                f"PostgreSQL is unreachable at {_safe(self.settings.database_url)} "
                f"({exc.__class__.__name__}). Start it or set DATABASE_URL."
            ) from exc
        self.on_stop(self._engine.dispose)
        self._broker = await connect(self.settings.amqp_url, self.name)
        self.on_stop(self._broker.close)
        self._rpc = RpcClient(self._broker, self.name, self.settings.rpc_timeout)
        await self._rpc.start()
        self.on_stop(self._rpc.stop)
        await self.on_start()
        self.ops_runner = await start_ops_server(
            self.settings.ops_host, self.ops_port, self.readiness()
        )
        self.on_stop(self.ops_runner.cleanup)
        log.info("service_started", ops_port=self.bound_ops_port)

    @property
    def bound_ops_port(self) -> int | None:
        if self.ops_runner is None or not self.ops_runner.addresses:
            return None
        return int(self.ops_runner.addresses[0][1])

    async def on_start(self) -> None:
        """Declare consumers, start relays and background loops."""

    async def start_outbox_relay(self, outbox: Table) -> OutboxRelay:
        """Publish this service's outbox table to its event exchange until stop()."""
        relay = OutboxRelay(
            self.engine, outbox, self.broker, self.settings.event_exchange(self.name)
        )
        await relay.start()
        self.on_stop(relay.stop)
        return relay

    def readiness(self) -> dict[str, ReadinessCheck]:
        async def database() -> bool:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True

        async def broker() -> bool:
            # A robust connection is not "closed" while it reconnects, so is_closed alone
            # reported ready through a whole outage; `connected` is cleared on each drop.
            return not self.broker.is_closed and self.broker.connected.is_set()

        return {"database": database, "broker": broker}

    async def stop(self) -> None:
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                await stopper()
            except Exception:
                log.exception("stop_failed")


async def run_until_signal(app: ServiceApp) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await app.start()
    except Exception:
        log.exception("service_start_failed")
        await app.stop()
        raise SystemExit(1) from None
    try:
        await stop.wait()
    finally:
        log.info("service_stopping")
        await app.stop()


def serve(app: ServiceApp) -> None:
    """Run a service until SIGTERM/SIGINT on the event loop its settings choose."""
    factory = uvloop.new_event_loop if app.settings.event_loop == "uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(run_until_signal(app))


def run_service(
    package: str,
    service: str,
    settings_type: Callable[[], S],
    app: Callable[[S], ServiceApp],
    migrate: Callable[[S], None],
    *,
    tools: Mapping[str, Callable[[list[str]], None]] | None = None,
) -> None:
    """`python -m <package> [serve|migrate|<tool> ...]`, serve by default.

    `tools`: further commands, each given the arguments from the command on and run before
    logging is configured (their output is for a person).
    """
    tools = tools or {}
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = settings_type()
    if command in tools:
        tools[command](sys.argv[1:])
        return
    configure_logging(service, settings.log_level)
    if command == "migrate":
        migrate(settings)
    elif command == "serve":
        # Process-wide, so here and not in the apps (tests run apps in-process).
        tune_gc()
        serve(app(settings))
    else:
        commands = "|".join(["serve", "migrate", *tools])
        sys.exit(f"usage: python -m {package} [{commands}], not {command!r}")
