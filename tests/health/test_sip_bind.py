"""The health-checker's own SIP socket, as shipped: bound to every interface, so a probe to a
carrier off this host is sent (a loopback bind cannot send there: EINVAL) and advertises the
address routed to it, never 0.0.0.0. The carrier here is sipp on the machine's own
non-loopback address, which is where a loopback-bound socket fails the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from health_checker.settings import Settings as HealthCheckerSettings
from health_checker.sip_probe import SipOptionsProbe
from pydantic import ValidationError
from shared.sip.addresses import RoutedAddresses
from shared.sip.testing.sipp import SippProcess

SCENARIOS = Path(__file__).parent.parent.parent / "shared" / "tests" / "sip" / "scenarios"


def own_address() -> str:
    address = RoutedAddresses().source_for(None)
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


async def test_default_bind_reaches_a_non_loopback_carrier(tmp_path: Path) -> None:
    settings = HealthCheckerSettings.model_validate({})
    assert settings.sip_host == "0.0.0.0"
    own = own_address()
    probe = await SipOptionsProbe.create(settings)
    try:
        async with SippProcess(
            tmp_path, scenario=SCENARIOS / "uas_options_200.xml", host=own, calls=1
        ) as sipp:
            report = await probe(sipp.target, 5.0)
            assert report.kind == "healthy", report
            await sipp.wait(5)
            [options] = sipp.received("OPTIONS")
        assert f"SIP/2.0/UDP {own}:" in options.text
        assert "0.0.0.0" not in options.text
    finally:
        await probe.close()


async def test_default_bind_sends_off_host_where_loopback_could_not() -> None:
    """One OPTIONS toward a documentation address (TEST-NET-2: nobody answers) leaves the
    default socket cleanly; the old 127.0.0.1 default got EINVAL from the kernel."""
    own_address()  # needs a default route off this host
    nowhere = "198.51.100.1:5060"
    probe = await SipOptionsProbe.create(HealthCheckerSettings.model_validate({}))
    old = await SipOptionsProbe.create(
        HealthCheckerSettings.model_validate({"HEALTH_CHECK_SIP_HOST": "127.0.0.1"})
    )
    try:
        report = await probe(nowhere, 0.3)
        assert report.kind == "timeout"
        stats = probe.transport.stats
        assert stats.sent >= 1 and stats.udp_errors == 0
        await old(nowhere, 0.3)
        assert old.transport.stats.udp_errors >= 1
    finally:
        await probe.close()
        await old.close()


@pytest.mark.parametrize("value", ["0.0.0.0", "::", "carrier.example"])
def test_public_host_must_be_a_routable_ip(value: str) -> None:
    with pytest.raises(ValidationError, match=r"HEALTH_CHECK_SIP_PUBLIC_HOST|sip_public_host"):
        HealthCheckerSettings.model_validate({"HEALTH_CHECK_SIP_PUBLIC_HOST": value})
