"""Fixtures for the SIP layer tests: a fresh transport, fast timers, sipp and DNS peers."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from shared.sip.call import OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.resolver import SipResolver
from shared.sip.testing.dns_server import LoopbackDnsServer
from shared.sip.testing.lifecycle import bound_transport
from shared.sip.testing.sipp import CallTo, SippProcess, StartSipp
from shared.sip.timers import SipTimers
from shared.sip.transport import UdpTransport

SCENARIOS = Path(__file__).parent / "scenarios"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("sipp") is not None:
        return
    skip = pytest.mark.skip(reason="sipp is not installed")
    for item in items:
        if "start_sipp" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture
def scenarios() -> Path:
    return SCENARIOS


@pytest.fixture
def fast_timers() -> SipTimers:
    return SipTimers(t1=0.05, t2=0.4, t4=0.5, timer_d=0.5)


@pytest.fixture
async def transport() -> AsyncIterator[UdpTransport]:
    async with bound_transport() as transport:
        yield transport


@pytest.fixture
def resolver() -> SipResolver:
    return SipResolver()


@pytest.fixture
def call_to(transport: UdpTransport, resolver: SipResolver) -> CallTo:
    """`call_to("sip:1@<target>", **OutboundCall options)` -> a call on this test's transport."""

    def make(request_uri: str, **options: Any) -> OutboundCall:
        return OutboundCall(transport, resolver, CallSpec(request_uri=request_uri), **options)

    return make


@pytest.fixture
async def dns_server() -> AsyncIterator[LoopbackDnsServer]:
    async with await LoopbackDnsServer.start() as server:
        yield server


@pytest.fixture
def dns_resolver(dns_server: LoopbackDnsServer, tmp_path: Path) -> SipResolver:
    """A resolver that asks only the loopback DNS server and ignores /etc/hosts."""
    return SipResolver(nameservers=[dns_server.nameserver], hosts_file=None, lifetime=1.0)


@pytest.fixture
async def start_sipp(tmp_path: Path) -> AsyncIterator[StartSipp]:
    """`await start_sipp("uas_invite_busy.xml", calls=1)`; every sipp is stopped at teardown."""
    started: list[SippProcess] = []

    async def start(scenario: str | None = None, **kwargs: Any) -> SippProcess:
        path = SCENARIOS / scenario if scenario is not None else None
        workdir = tmp_path / f"sipp{len(started)}"
        sipp = SippProcess(workdir, scenario=path, **kwargs)
        started.append(sipp)
        return await sipp.start()

    yield start
    for sipp in started:
        if sipp.process is not None:
            await sipp.stop()
