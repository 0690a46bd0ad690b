"""The dial policy in the SIP layer: a 3xx, a hostile Contact or Record-Route, an SDP
address, an RTP source to latch to, or a customer's host resolving to 127.0.0.1 never lead
a call to an internal address, and a customer's call never to a carrier. Driven with
scripted carriers on loopback; the policy is call-manager's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from call_manager.policy.addresses import AllowList
from call_manager.policy.dial_policy import CallRemotePolicy, DialPolicy
from call_manager.policy.provider_hosts import ProviderHosts
from call_manager.settings import Settings as CallManagerSettings
from provider_manager.app import ProviderManagerApp
from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.resolver import SipResolver
from shared.sip.rtp import RtpTicker
from shared.sip.testing.udp_peers import ScriptedPeer, SilentPeer
from shared.sip.timers import SipTimers
from shared.sip.transport import UdpTransport

from tests.support.calls import request_json as call
from tests.support.isolated_calls import operator
from tests.support.polling import eventually

TIMERS = SipTimers(t1=0.05, t2=0.4, t4=0.5, timer_d=0.5)
SDP = [("Content-Type", "application/sdp")]
OPERATOR_ALLOWS = AllowList.parse("127.0.0.2/32")
RTP_PACKET = bytes([0x80, 0]) + bytes(10) + b"\xff" * 160  # version 2, PCMU silence


@pytest.fixture
async def transport() -> AsyncIterator[UdpTransport]:
    transport = await UdpTransport.create("127.0.0.1", 0)
    yield transport
    transport.close()
    await transport.wait_closed()


@pytest.fixture
async def ticker() -> AsyncIterator[RtpTicker]:
    ticker = RtpTicker()
    yield ticker
    await ticker.aclose()


@pytest.fixture
async def victim() -> AsyncIterator[SilentPeer]:
    """An internal service on 127.0.0.1 that must never hear from a call."""
    peer = await SilentPeer.start("127.0.0.1")
    yield peer
    peer.close()


def _sdp(host: str, port: int) -> bytes:
    return (
        f"v=0\r\no=c 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    ).encode()


def _call(
    transport: UdpTransport,
    ticker: RtpTicker,
    request_uri: str,
    policy: CallRemotePolicy,
    **options: Any,
) -> OutboundCall:
    """A call on the test's transport and ticker; its DNS server (port 9) answers nothing."""
    return OutboundCall(
        transport,
        SipResolver(nameservers=["127.0.0.1:9"], lifetime=0.5),
        CallSpec(request_uri=request_uri),
        timers=TIMERS,
        ticker=ticker,
        policy=policy,
        **options,
    )


async def test_a_hostile_contact_is_refused(
    transport: UdpTransport, victim: SilentPeer, ticker: RtpTicker
) -> None:
    """A provider's 200 names 127.0.0.1:<victim> as its Contact: ACK and BYE go to the
    carrier's own address instead, and the call ends as failed."""
    carrier = await ScriptedPeer.start("127.0.0.1")
    try:
        call = _call(
            transport, ticker, f"sip:42@{carrier.target}", CallRemotePolicy(AllowList(), False)
        )
        placing = asyncio.create_task(call.invite())
        invite, addr = await carrier.expect_request("INVITE")
        contact = [("Contact", f"<sip:x@{victim.target}>"), *SDP]
        carrier.respond(invite, addr, 200, "OK", headers=contact, body=_sdp("127.0.0.1", 9))
        ack, _ = await carrier.expect_request("ACK")
        bye, bye_addr = await carrier.expect_request("BYE")
        carrier.respond(bye, bye_addr, 200, "OK", to_tag=None)
        outcome = await placing
    finally:
        carrier.close()
    assert outcome.kind is CallEventKind.FAILED
    assert outcome.error is not None and "dial policy" in outcome.error
    assert ack.uri == f"sip:x@{victim.target}"  # the dialog's target, sent to the carrier
    await asyncio.sleep(0.2)  # anything stray would have arrived by now (loopback)
    assert victim.received == []


async def test_a_hostile_record_route_is_refused(
    transport: UdpTransport, victim: SilentPeer, ticker: RtpTicker
) -> None:
    carrier = await ScriptedPeer.start("127.0.0.1")
    try:
        call = _call(
            transport, ticker, f"sip:42@{carrier.target}", CallRemotePolicy(AllowList(), False)
        )
        placing = asyncio.create_task(call.invite())
        invite, addr = await carrier.expect_request("INVITE")
        headers = [
            ("Contact", f"<sip:x@{carrier.target}>"),
            ("Record-Route", f"<sip:{victim.target};lr>"),
            *SDP,
        ]
        carrier.respond(invite, addr, 200, "OK", headers=headers, body=_sdp("127.0.0.1", 9))
        await carrier.expect_request("ACK")
        bye, bye_addr = await carrier.expect_request("BYE")
        carrier.respond(bye, bye_addr, 200, "OK", to_tag=None)
        outcome = await placing
    finally:
        carrier.close()
    assert outcome.kind is CallEventKind.FAILED
    await asyncio.sleep(0.2)
    assert victim.received == []


@pytest.mark.parametrize(
    ("carrier_host", "allow", "customer_hop"),
    [("127.0.0.2", OPERATOR_ALLOWS, True), ("127.0.0.1", AllowList(), False)],
    ids=["customer-pbx", "provider"],
)
async def test_a_redirect_to_loopback_is_refused(
    transport: UdpTransport,
    victim: SilentPeer,
    ticker: RtpTicker,
    carrier_host: str,
    allow: AllowList,
    customer_hop: bool,
) -> None:
    """A 302 whose Contact is 127.0.0.1:<victim>: redirects are followed (up to
    max_redirects), but not to an address the policy refuses; the call fails instead."""
    carrier = await ScriptedPeer.start(carrier_host)
    try:
        call = _call(
            transport,
            ticker,
            f"sip:42@{carrier.target}",
            CallRemotePolicy(allow, customer_hop),
            max_redirects=2,
        )
        placing = asyncio.create_task(call.invite())
        invite, addr = await carrier.expect_request("INVITE")
        carrier.respond(
            invite, addr, 302, "Moved", headers=[("Contact", f"<sip:x@{victim.target}>")]
        )
        await carrier.expect_request("ACK")
        outcome = await placing
    finally:
        carrier.close()
    assert outcome.kind is CallEventKind.FAILED
    assert outcome.error is not None and "dial policy" in outcome.error, outcome
    await asyncio.sleep(0.2)
    assert victim.received == []


async def test_a_customer_host_resolving_inside_is_never_invited(
    transport: UdpTransport, victim: SilentPeer, ticker: RtpTicker
) -> None:
    """The creation check let a name through; by dialing time it points at 127.0.0.1."""
    call = _call(
        transport, ticker, f"sip:42@{victim.target}", CallRemotePolicy(OPERATOR_ALLOWS, True)
    )
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.FAILED
    assert outcome.error is not None and "dial policy" in outcome.error
    await asyncio.sleep(0.2)
    assert victim.received == []


async def test_rtp_goes_only_to_allowed_addresses(
    transport: UdpTransport, victim: SilentPeer, ticker: RtpTicker
) -> None:
    """A PBX on the allowed address answers with SDP pointing at 127.0.0.1: no RTP there.
    The same answer pointing at its own address gets RTP."""
    for media_host, media_peer_host in (("127.0.0.1", None), ("127.0.0.2", "127.0.0.2")):
        pbx = await ScriptedPeer.start("127.0.0.2")
        media = await SilentPeer.start(media_peer_host) if media_peer_host else victim
        try:
            call = _call(
                transport, ticker, f"sip:42@{pbx.target}", CallRemotePolicy(OPERATOR_ALLOWS, True)
            )
            placing = asyncio.create_task(call.invite())
            invite, addr = await pbx.expect_request("INVITE")
            headers = [("Contact", f"<sip:x@{pbx.target}>"), *SDP]
            body = _sdp(media_host, media.port)
            pbx.respond(invite, addr, 200, "OK", headers=headers, body=body)
            assert (await placing).kind is CallEventKind.ANSWERED
            await asyncio.sleep(0.3)  # 15 packets' worth of silence
            bye_task = asyncio.create_task(call.bye())
            bye, bye_addr = await pbx.expect_request("BYE")
            pbx.respond(bye, bye_addr, 200, "OK", to_tag=None)
            await bye_task
            if media_peer_host is None:
                assert victim.received == []
            else:
                assert len(media.received) > 0
        finally:
            pbx.close()
            if media is not victim:
                media.close()


async def _holds(value: bool) -> bool:
    """`eventually(lambda: _holds(<expression>))`: the expression is read at each poll."""
    return value


async def _answer(call: OutboundCall, pbx: ScriptedPeer, media: SilentPeer) -> None:
    """Place `call` and answer it from `pbx` with SDP naming `media`."""
    placing = asyncio.create_task(call.invite())
    invite, addr = await pbx.expect_request("INVITE")
    headers = [("Contact", f"<sip:x@{pbx.target}>"), *SDP]
    pbx.respond(invite, addr, 200, "OK", headers=headers, body=_sdp(media.host, media.port))
    assert (await placing).kind is CallEventKind.ANSWERED


async def test_symmetric_rtp_never_latches_to_an_internal_source(
    transport: UdpTransport, victim: SilentPeer, ticker: RtpTicker
) -> None:
    """RTP from 127.0.0.1:<victim> (anyone who can reach our RTP port could send it) does not
    move our RTP there; RTP from an allowed address does (symmetric RTP still works)."""
    pbx = await ScriptedPeer.start("127.0.0.2")
    media = await SilentPeer.start("127.0.0.2")
    behind_nat = await SilentPeer.start("127.0.0.2")
    try:
        call = _call(
            transport, ticker, f"sip:42@{pbx.target}", CallRemotePolicy(OPERATOR_ALLOWS, True)
        )
        await _answer(call, pbx, media)
        assert call.rtp is not None
        ours = (call.rtp.local_host, call.rtp.local_port)
        victim.send(RTP_PACKET, ours)
        await eventually(
            lambda: _holds(call.rtp is not None and call.rtp.packets_received == 1),
            message="the hostile packet read",
        )
        sent = len(media.received)
        await eventually(lambda: _holds(len(media.received) > sent + 5), message="RTP goes on")
        assert victim.received == [] and call.rtp.latched_to is None
        behind_nat.send(RTP_PACKET, ours)
        await eventually(lambda: _holds(len(behind_nat.received) > 0), message="latched RTP")
        assert call.rtp.latched_to == behind_nat.address
        bye_task = asyncio.create_task(call.bye())
        bye, bye_addr = await pbx.expect_request("BYE")
        pbx.respond(bye, bye_addr, 200, "OK", to_tag=None)
        await bye_task
    finally:
        for peer in (pbx, media, behind_nat):
            peer.close()
    assert victim.received == []


@pytest.fixture
async def carrier_policy(
    isolated_env: dict[str, Any],
    isolated_provider_manager: ProviderManagerApp,
    rpc: Any,
) -> DialPolicy:
    """The dial policy as call-manager builds it, asking the isolated provider-manager."""
    queue = CallManagerSettings.model_validate(isolated_env).request_queue("provider-manager")
    resolver = SipResolver(nameservers=["127.0.0.1:9"], lifetime=0.5)
    return DialPolicy(OPERATOR_ALLOWS, ProviderHosts(rpc, queue, refresh_seconds=0), resolver)


async def test_a_customer_call_never_invites_a_carrier(
    transport: UdpTransport,
    ticker: RtpTicker,
    iso_http: aiohttp.ClientSession,
    carrier_policy: DialPolicy,
) -> None:
    """A carrier on the allowed address (its host:port is a provider's): a customer's call
    whose first hop resolves to it, or whose PBX (same address, another port) redirects to
    it, fails by the dial policy and sends the carrier nothing. The PBX itself is dialed, and
    a ProviderCall through that carrier too."""
    carrier = await ScriptedPeer.start("127.0.0.2")
    pbx = await ScriptedPeer.start("127.0.0.2")
    operator_headers = await operator(iso_http)
    body = {"type": "sip", "hostname": carrier.target, "name": "carrier"}
    provider = await call(iso_http, "POST", "/v1.0/providers", operator_headers, body)
    try:
        direct = _call(
            transport,
            ticker,
            f"sip:+19005550000@{carrier.target}",
            CallRemotePolicy(OPERATOR_ALLOWS, True, carrier_policy),
        )
        outcome = await direct.invite()
        assert outcome.kind is CallEventKind.FAILED
        assert outcome.error is not None and "dial policy" in outcome.error, outcome
        redirected = _call(
            transport,
            ticker,
            f"sip:alice@{pbx.target}",
            CallRemotePolicy(OPERATOR_ALLOWS, True, carrier_policy),
            max_redirects=2,
        )
        placing = asyncio.create_task(redirected.invite())
        invite, addr = await pbx.expect_request("INVITE")
        moved = [("Contact", f"<sip:+19005550000@{carrier.target}>")]
        pbx.respond(invite, addr, 302, "Moved", headers=moved)
        await pbx.expect_request("ACK")
        outcome = await placing
        assert outcome.kind is CallEventKind.FAILED
        assert outcome.error is not None and "dial policy" in outcome.error, outcome
        await asyncio.sleep(0.2)  # anything stray would have arrived by now (loopback)
        assert carrier.received == []
        # The rule is for customers' hops: a provider hop is the operator's choice.
        forced = _call(
            transport,
            ticker,
            f"sip:+12125550000@{carrier.target}",
            CallRemotePolicy(OPERATOR_ALLOWS, False, carrier_policy),
        )
        placing = asyncio.create_task(forced.invite())
        invite, addr = await carrier.expect_request("INVITE")
        carrier.respond(invite, addr, 486, "Busy Here")
        assert (await placing).status_code == 486
    finally:
        await call(iso_http, "DELETE", f"/v1.0/providers/{provider['id']}", operator_headers)
        carrier.close()
        pbx.close()
