"""Health-checker fixtures: in-process replicas with tiny intervals, SIP peers on loopback,
a loopback DNS server (unknown names get NXDOMAIN at once), and a provider helper that
goes through the public API and deletes what it created."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from health_checker.app import HealthCheckerApp
from health_checker.settings import Settings as HealthCheckerSettings
from provider_manager.app import ProviderManagerApp
from shared.sip.testing.dns_server import LoopbackDnsServer
from shared.sip.testing.sipp import SippProcess
from shared.sip.testing.udp_peers import SilentPeer, SipResponder

from tests.support.health import FAST_HEALTH_CHECKS, StartHealthChecker, drop_subscribe_queue
from tests.support.providers import ProviderApi

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.fixture(scope="session", autouse=True)
async def _drop_subscribe_queue(
    platform_env: dict[str, Any], broker: AbstractRobustConnection
) -> AsyncIterator[None]:
    """The health-checker's durable event queue would outlive the run: remove it after."""
    yield
    await drop_subscribe_queue(broker, platform_env)


@pytest.fixture
async def dns_server() -> AsyncIterator[LoopbackDnsServer]:
    async with await LoopbackDnsServer.start() as server:
        yield server


@pytest.fixture
def health_env(platform_env: dict[str, Any], dns_server: LoopbackDnsServer) -> dict[str, Any]:
    return {
        **platform_env,
        **FAST_HEALTH_CHECKS,
        "HEALTH_CHECK_DNS_SERVERS": dns_server.nameserver,
    }


@pytest.fixture
async def start_health_checker(
    health_env: dict[str, Any], provider_manager: ProviderManagerApp, providers: ProviderApi
) -> AsyncIterator[StartHealthChecker]:
    """Start a replica (settings overridable per call); all are stopped after the test,
    before `providers` deletes the test's providers (those events wait in the queue)."""
    apps: list[HealthCheckerApp] = []

    async def start(**overrides: Any) -> HealthCheckerApp:
        settings = HealthCheckerSettings.model_validate({**health_env, **overrides})
        app = HealthCheckerApp(settings)
        apps.append(app)
        await app.start()
        return app

    yield start
    for app in reversed(apps):
        await app.stop()


@pytest.fixture
async def health_checker(start_health_checker: StartHealthChecker) -> HealthCheckerApp:
    return await start_health_checker()


@pytest.fixture
async def providers(
    http: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> AsyncIterator[ProviderApi]:
    helper = ProviderApi(http, admin_headers)
    yield helper
    await helper.cleanup()


@pytest.fixture
async def peers() -> AsyncIterator[Callable[..., Awaitable[SipResponder | SilentPeer]]]:
    """Start loopback UDP peers: peers() answers 200 and records, peers(silent=True) never
    answers; all closed after the test."""
    started: list[SipResponder | SilentPeer] = []

    async def start(*, silent: bool = False, status: int = 200) -> SipResponder | SilentPeer:
        peer: SipResponder | SilentPeer
        if silent:
            peer = await SilentPeer.start()
        else:
            peer = await SipResponder.start(status=status, record=True)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.close()


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[SippProcess]]]:
    """Start sipp with a scenario from tests/health/scenarios (SippProcess keywords, e.g.
    transport="t1", pass through); stopped (SIGINT) after."""
    running: list[SippProcess] = []

    async def start(scenario: str, **kwargs: Any) -> SippProcess:
        workdir = tmp_path / f"{scenario}-{len(running)}"
        process = SippProcess(workdir, scenario=SCENARIOS / scenario, max_runtime=60, **kwargs)
        running.append(process)
        return await process.start()

    yield start
    for process in running:
        await process.stop()
