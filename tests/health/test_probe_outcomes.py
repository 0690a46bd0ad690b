"""What a probe concludes, end to end: provider created over the API, probed by a real
health-checker with real SIP OPTIONS, result visible on the provider and in its history."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest
from health_checker.app import HealthCheckerApp
from shared.sip.testing.sipp import SippProcess
from shared.sip.testing.udp_peers import SilentPeer, SipResponder

from tests.support.health import TIMEOUT, StartHealthChecker
from tests.support.polling import eventually
from tests.support.providers import ProviderApi
from tests.support.sip_traffic import copies_of_first, gaps, probes

StartPeer = Callable[..., Awaitable[SipResponder | SilentPeer]]
StartSipp = Callable[[str], Awaitable[SippProcess]]


async def test_sipp_answering_200_makes_the_provider_healthy(
    health_checker: HealthCheckerApp, providers: ProviderApi, sipp: StartSipp
) -> None:
    carrier = await sipp("uas_options_200.xml")
    created = await providers.create(carrier.target)
    assert created["health_status"] == "unknown"
    assert created["health_checked_at"] is None

    provider = await providers.wait_status(created["id"], "healthy")
    assert provider["health_checked_at"] is not None

    options = carrier.received("OPTIONS")
    assert options, carrier.output()
    first = options[0].text
    assert f"OPTIONS sip:{carrier.target} SIP/2.0" in first
    assert "branch=z9hG4bK" in first and ";rport" in first
    assert "Max-Forwards: 70" in first

    checks = await providers.health_checks(created["id"])
    assert checks[0]["outcome"] == "healthy"
    assert checks[0]["status_code"] == 200
    assert checks[0]["reason"] == "OK"
    assert checks[0]["hostname"] == carrier.target
    assert checks[0]["address"] == carrier.target
    assert checks[0]["rtt_ms"] is not None and checks[0]["rtt_ms"] >= 0
    assert checks[0]["error"] is None


@pytest.mark.parametrize(
    ("scenario", "code"), [("uas_options_404.xml", 404), ("uas_options_503.xml", 503)]
)
async def test_any_sip_response_is_healthy(
    health_checker: HealthCheckerApp,
    providers: ProviderApi,
    sipp: StartSipp,
    scenario: str,
    code: int,
) -> None:
    carrier = await sipp(scenario)
    created = await providers.create(carrier.target)
    await providers.wait_status(created["id"], "healthy")
    checks = await providers.health_checks(created["id"])
    assert checks[0]["status_code"] == code
    assert checks[0]["outcome"] == "healthy"


async def test_a_silent_port_is_unhealthy_after_the_timeout_and_was_retransmitted_to(
    health_checker: HealthCheckerApp, providers: ProviderApi, peers: StartPeer
) -> None:
    silent = await peers(silent=True)
    created = await providers.create(silent.target)
    started = time.monotonic()
    provider = await providers.wait_status(created["id"], "unhealthy")
    assert time.monotonic() - started >= TIMEOUT
    assert provider["health_checked_at"] is not None

    # Timer E: the same request (same branch) sent again 500 ms after the first.
    copies = copies_of_first(silent)
    assert len(copies) >= 2, [d.text for d in silent.received]
    # T1 = 500 ms; never early, possibly late when the event loop is busy.
    assert 0.45 <= copies[1].at - copies[0].at <= 1.0
    assert copies[1].data == copies[0].data

    checks = await providers.health_checks(created["id"])
    assert checks[0]["outcome"] == "unhealthy"
    assert checks[0]["status_code"] is None
    assert checks[0]["address"] == silent.target
    assert "no response" in (checks[0]["error"] or "")


async def test_an_unresolvable_name_is_unhealthy_well_before_the_timeout(
    start_health_checker: StartHealthChecker, providers: ProviderApi
) -> None:
    await start_health_checker(HEALTH_CHECK_TIMEOUT=5.0)
    started = time.monotonic()
    created = await providers.create("no-such-carrier.invalid")
    await providers.wait_status(created["id"], "unhealthy", timeout=5.0)
    assert time.monotonic() - started < 2.0  # the loopback DNS answered NXDOMAIN at once

    checks = await providers.health_checks(created["id"])
    assert checks[0]["outcome"] == "unhealthy"
    assert checks[0]["address"] is None
    assert "NXDOMAIN" in (checks[0]["error"] or "")


async def test_a_provider_is_probed_once_per_interval(
    health_checker: HealthCheckerApp, providers: ProviderApi, peers: StartPeer
) -> None:
    responder = await peers()
    assert isinstance(responder, SipResponder)
    created = await providers.create(responder.target)
    await providers.wait_status(created["id"], "healthy")

    async def three_probes() -> bool:
        return len(probes(responder)) >= 3

    await eventually(three_probes, 6.0, message="three probes")
    interval = health_checker.config.interval
    jitter = health_checker.config.jitter
    assert all(
        interval * (1 - jitter) - 0.05 <= gap <= interval * (1 + jitter) + 0.5
        for gap in gaps(responder)
    )
