"""Health-checker fixtures: in-process replicas with tiny intervals, SIP peers on loopback,
a loopback DNS server (unknown names get NXDOMAIN at once), and a provider helper that
goes through the public API and deletes what it created."""

from __future__ import annotations

import contextlib
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
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.polling import eventually

SCENARIOS = Path(__file__).parent / "scenarios"
INTERVAL = 1.0
TIMEOUT = 0.8  # below INTERVAL: a silent carrier does not make rounds overrun

StartHealthChecker = Callable[..., Awaitable[HealthCheckerApp]]


@pytest.fixture(scope="session", autouse=True)
async def _drop_subscribe_queue(
    platform_env: dict[str, Any], broker: AbstractRobustConnection
) -> AsyncIterator[None]:
    """The health-checker's durable event queue would outlive the run: remove it after."""
    yield
    channel = await broker.channel()
    with contextlib.suppress(Exception):
        await channel.queue_delete(f"{platform_env['QUEUE_PREFIX']}.health-checker.subscribe")
    with contextlib.suppress(Exception):
        await channel.close()


@pytest.fixture
async def dns_server() -> AsyncIterator[LoopbackDnsServer]:
    server = await LoopbackDnsServer.start()
    yield server
    server.close()


@pytest.fixture
def health_env(platform_env: dict[str, Any], dns_server: LoopbackDnsServer) -> dict[str, Any]:
    return {
        **platform_env,
        "HEALTH_CHECKER_OPS_PORT": 0,
        "HEALTH_CHECK_INTERVAL": INTERVAL,
        "HEALTH_CHECK_TIMEOUT": TIMEOUT,
        "HEALTH_CHECK_POLL_INTERVAL": 0.1,
        "HEALTH_CHECK_FLUSH_INTERVAL": 0.05,
        "HEALTH_CHECK_RESYNC_INTERVAL": 600,
        "HEALTH_CHECK_DNS_SERVERS": dns_server.nameserver,
    }


@pytest.fixture
async def start_health_checker(
    health_env: dict[str, Any], provider_manager: ProviderManagerApp, providers: Providers
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


class Providers:
    """Providers through the public API; the ones a test leaves are deleted after it."""

    def __init__(self, http: aiohttp.ClientSession, headers: dict[str, str]) -> None:
        self._http = http
        self._headers = headers
        self.created: list[str] = []

    async def create(self, hostname: str, **fields: Any) -> dict[str, Any]:
        body = {"type": "sip", "hostname": hostname, "name": "health test", **fields}
        async with self._http.post("/v1.0/providers", json=body, headers=self._headers) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
        self.created.append(provider["id"])
        return provider

    async def get(self, provider_id: str) -> dict[str, Any]:
        async with self._http.get(f"/v1.0/providers/{provider_id}", headers=self._headers) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
            return provider

    async def update(self, provider_id: str, **fields: Any) -> dict[str, Any]:
        async with self._http.put(
            f"/v1.0/providers/{provider_id}", json=fields, headers=self._headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
            return provider

    async def delete(self, provider_id: str) -> dict[str, Any]:
        async with self._http.delete(
            f"/v1.0/providers/{provider_id}", headers=self._headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
            return provider

    async def health_checks(self, provider_id: str) -> list[dict[str, Any]]:
        async with self._http.get(
            f"/v1.0/providers/{provider_id}/health_checks", headers=self._headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            result: list[dict[str, Any]] = (await resp.json())["result"]
            return result

    async def wait_status(
        self, provider_id: str, status: str, timeout: float = 10.0
    ) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            provider = await self.get(provider_id)
            return provider if provider["health_status"] == status else None

        return await eventually(probe, timeout, message=f"provider {provider_id} {status}")

    async def cleanup(self) -> None:
        for provider_id in self.created:
            async with self._http.delete(
                f"/v1.0/providers/{provider_id}", headers=self._headers
            ) as resp:
                assert resp.status in (200, 404), await resp.text()


@pytest.fixture
async def providers(
    http: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> AsyncIterator[Providers]:
    helper = Providers(http, admin_headers)
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
