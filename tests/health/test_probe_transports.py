"""Probes use the provider's transport: a provider set to `tcp` is probed over TCP (sipp
-t t1), one set to `tls` over TLS with the certificate checked (sipp behind a TLS front, a CA
made for the run and given as HEALTH_CHECK_SIP_TLS_CA_FILE)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from shared.sip.testing.dns_server import LoopbackDnsServer
from shared.sip.testing.sipp import SippProcess
from shared.sip.testing.tls import PkiFiles, TlsFront, make_test_pki

from tests.support.health import StartHealthChecker
from tests.support.providers import ProviderApi

StartSipp = Callable[..., Awaitable[SippProcess]]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_test_pki(tmp_path_factory.mktemp("pki"), names=("carrier.test",))


async def test_a_tcp_provider_is_probed_over_tcp(
    start_health_checker: StartHealthChecker, providers: ProviderApi, sipp: StartSipp
) -> None:
    await start_health_checker()
    carrier = await sipp("uas_options_200.xml", transport="t1")  # TCP only
    created = await providers.create(carrier.target, transport="tcp")
    await providers.wait_status(created["id"], "healthy")
    options = carrier.received("OPTIONS")
    assert options and "Via: SIP/2.0/TCP " in options[0].text
    checks = await providers.health_checks(created["id"])
    assert checks[0]["address"] == f"{carrier.target};transport=tcp"


async def test_a_tls_provider_is_probed_over_verified_tls(
    start_health_checker: StartHealthChecker,
    providers: ProviderApi,
    sipp: StartSipp,
    dns_server: LoopbackDnsServer,
    pki: PkiFiles,
) -> None:
    dns_server.add("carrier.test", "A", "127.0.0.1")
    await start_health_checker(HEALTH_CHECK_SIP_TLS_CA_FILE=str(pki.ca_file))
    carrier = await sipp("uas_options_200.xml", transport="t1")
    async with TlsFront(pki, carrier.address) as front:
        created = await providers.create(f"carrier.test:{front.port}", transport="tls")
        await providers.wait_status(created["id"], "healthy")
        assert front.accepted >= 1
    options = carrier.received("OPTIONS")
    assert options and "Via: SIP/2.0/TLS " in options[0].text


async def test_an_untrusted_tls_certificate_is_unhealthy_with_the_reason(
    start_health_checker: StartHealthChecker,
    providers: ProviderApi,
    sipp: StartSipp,
    dns_server: LoopbackDnsServer,
    pki: PkiFiles,
    tmp_path: Path,
) -> None:
    dns_server.add("carrier.test", "A", "127.0.0.1")
    other = make_test_pki(tmp_path / "other-ca", names=("carrier.test",))
    await start_health_checker(HEALTH_CHECK_SIP_TLS_CA_FILE=str(other.ca_file))
    carrier = await sipp("uas_options_200.xml", transport="t1")
    async with TlsFront(pki, carrier.address) as front:
        created = await providers.create(f"carrier.test:{front.port}", transport="tls")
        await providers.wait_status(created["id"], "unhealthy")
        checks = await providers.health_checks(created["id"])
    errors = [check["error"] or "" for check in checks]
    assert errors and all("certificate not accepted" in error for error in errors), errors
    assert carrier.received("OPTIONS") == []
