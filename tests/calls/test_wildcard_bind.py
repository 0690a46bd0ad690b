"""The call-manager's SIP edge as shipped: bound to 0.0.0.0 by default, it dials a carrier
off loopback (sipp on this machine's own address) and nothing it sends carries 0.0.0.0: Via,
Contact and SDP c=/o= name the address routed to the carrier, RTP binds the wildcard."""

from __future__ import annotations

from pathlib import Path

import pytest
from call_manager.dialing.leg import InviteSpec, LegEvent, LegEventKind
from call_manager.dialing.sip_dialer import SipDialer, open_transport
from call_manager.settings import Settings as CallManagerSettings
from shared.sip.addresses import RoutedAddresses
from shared.sip.resolver import SipResolver
from shared.sip.testing.sipp import SippProcess
from shared.sip.testing.waiting import wait_until
from shared.sip.timers import SipTimers


def own_address() -> str:
    address = RoutedAddresses().source_for(None)
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


async def test_default_bind_advertises_routable_addresses_only(tmp_path: Path) -> None:
    settings = CallManagerSettings.model_validate({"CALL_MANAGER_SIP_PORT": 0})
    assert settings.sip_host == "0.0.0.0" and settings.sip_public_host == ""
    own = own_address()
    transport = await open_transport(settings)
    events: list[LegEvent] = []
    try:
        assert transport.local_host == "0.0.0.0"
        dialer = SipDialer(
            transport,
            SipResolver(),
            timers=SipTimers(t1=0.1),
            media_host=settings.rtp_host or None,
            media_public_host=settings.rtp_public_host or None,
        )
        async with SippProcess(tmp_path / "carrier", host=own, calls=1) as carrier:
            spec = InviteSpec(
                request_uri=f"sip:4930123@{carrier.target}",
                next_hop=carrier.target,
                from_user="4930111",
                from_host=None,
                from_display="",
            )
            leg = dialer.dial(spec, events.append)
            await wait_until(lambda: any(e.kind is LegEventKind.ANSWERED for e in events), 10)
            leg.hangup()
            await wait_until(lambda: any(e.kind is LegEventKind.ENDED for e in events), 10)
            await carrier.wait(10)
            received = carrier.received()
    finally:
        transport.close()
        await transport.wait_closed()
    assert {m.method for m in received} >= {"INVITE", "ACK", "BYE"}
    for message in received:
        assert "0.0.0.0" not in message.text, message.text
        assert f"SIP/2.0/UDP {own}:{transport.local_port};" in message.text
    [invite] = [m for m in received if m.method == "INVITE"]
    assert f"c=IN IP4 {own}" in invite.text
    assert f"@{own}:{transport.local_port}>" in invite.text  # Contact
