"""What a transport bound to the wildcard (0.0.0.0) advertises, as sipp receives it: never
0.0.0.0; the local address routed to the carrier, or the configured public (NAT) address."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from shared.sip.addresses import RoutedAddresses
from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.options import probe_options
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.testing.lifecycle import bound_transport
from shared.sip.testing.sipp import StartSipp
from shared.sip.transport import SipTransport


def primary_address() -> str:
    """The machine's own non-loopback address (where its default route leaves)."""
    address = RoutedAddresses().source_for(None)
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


@pytest.fixture
async def wildcard() -> AsyncIterator[SipTransport]:
    async with bound_transport("0.0.0.0") as transport:
        yield transport


async def test_wildcard_bind_advertises_the_address_routed_to_the_carrier(
    wildcard: SipTransport, start_sipp: StartSipp
) -> None:
    own = primary_address()
    prober_peer = await start_sipp("uas_options_200.xml", host=own, calls=1)
    callee = await start_sipp(host=own, calls=1)
    resolver = SipResolver()
    result = await probe_options(wildcard, resolver, prober_peer.target, 5.0)
    assert result.healthy, result
    call = OutboundCall(wildcard, resolver, CallSpec(request_uri=f"sip:4930@{callee.target}"))
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.ANSWERED, outcome
    assert call.rtp is not None and call.rtp.local_host == "0.0.0.0"  # RTP binds the wildcard
    response = await call.bye()
    assert response is not None and response.status_code == 200
    await prober_peer.wait(5)
    await callee.wait(10)
    received = [*prober_peer.received(), *callee.received()]
    assert {m.method for m in received} >= {"OPTIONS", "INVITE", "ACK", "BYE"}
    for message in received:
        assert "0.0.0.0" not in message.text, message.text
        headers = parse_message(message.text.encode()).headers
        assert f"SIP/2.0/UDP {own}:{wildcard.local_port};" in (headers.get("via") or "")
    [invite] = [m for m in received if m.method == "INVITE"]
    assert f"c=IN IP4 {own}" in invite.text and f"IN IP4 {own}\n" in invite.text  # c= and o=
    assert f"@{own}:{wildcard.local_port}>" in invite.text  # Contact


async def test_wildcard_bind_to_a_loopback_carrier_advertises_loopback(
    wildcard: SipTransport, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_options_200.xml", calls=1)
    result = await probe_options(wildcard, SipResolver(), sipp.target, 5.0)
    assert result.healthy, result
    [options] = sipp.received("OPTIONS")
    assert f"SIP/2.0/UDP 127.0.0.1:{wildcard.local_port};branch=" in options.text


async def test_public_address_is_advertised_while_rtp_binds_locally(
    start_sipp: StartSipp,
) -> None:
    """1:1 NAT: the host owns 10.x/192.0.2.x but carriers must see the public address."""
    transport = await SipTransport.create("0.0.0.0", 0, advertise="203.0.113.7")
    try:
        callee = await start_sipp(calls=1)
        call = OutboundCall(
            transport, SipResolver(), CallSpec(request_uri=f"sip:4930@{callee.target}")
        )
        outcome = await call.invite()
        assert outcome.kind is CallEventKind.ANSWERED, outcome
        assert call.rtp is not None and call.rtp.local_host == "0.0.0.0"
        await call.bye()
        await callee.wait(10)
        [invite] = callee.received("INVITE")
        assert f"SIP/2.0/UDP 203.0.113.7:{transport.local_port};" in invite.text
        assert "c=IN IP4 203.0.113.7" in invite.text
        assert "0.0.0.0" not in invite.text
    finally:
        transport.close()
        await transport.wait_closed()


async def test_the_wildcard_cannot_be_advertised() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        await SipTransport.create("127.0.0.1", 0, advertise="0.0.0.0")


async def test_contact_follows_what_the_carrier_saw_through_nat(
    transport: SipTransport, start_sipp: StartSipp
) -> None:
    """RFC 3581 both ways: the carrier's `received` on our Via (no public address set) makes
    the next INVITE's Contact say where it can reach us; Via keeps our own address."""
    sipp = await start_sipp("uas_invite_busy_behind_nat.xml", calls=2)
    for _ in range(2):
        call = OutboundCall(
            transport, SipResolver(), CallSpec(request_uri=f"sip:4930@{sipp.target}")
        )
        outcome = await call.invite()
        assert outcome.status_code == 486, outcome
    assert await sipp.wait(10) == 0, sipp.errors()[-2000:]
    first, second = sipp.received("INVITE")
    port = transport.local_port
    assert f"Contact: <sip:anonymous@127.0.0.1:{port}>" in first.text
    assert f"Contact: <sip:anonymous@198.51.100.20:{port}>" in second.text
    assert f"Via: SIP/2.0/UDP 127.0.0.1:{port};" in second.text
