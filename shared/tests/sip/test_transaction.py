"""Non-INVITE client transaction timers and matching, transport dispatch."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from shared.sip.errors import TransactionTimeout, TransportError
from shared.sip.message import SipRequest, SipResponse
from shared.sip.options import build_options_request
from shared.sip.parser import parse_message
from shared.sip.testing.sipp import StartSipp
from shared.sip.testing.udp_peers import SilentPeer, fast_response
from shared.sip.testing.waiting import wait_until
from shared.sip.timers import SipTimers
from shared.sip.transaction import NonInviteClientTransaction
from shared.sip.transport import Address, UdpTransport


def reply(request: bytes, status: str, cseq_method: str | None = None) -> bytes:
    data = fast_response(request, f"SIP/2.0 {status}".encode(), b"peer")
    assert data is not None
    if cseq_method is not None:
        data = data.replace(b" OPTIONS\r\n", f" {cseq_method}\r\n".encode())
    return data


async def test_timer_e_doubles_up_to_t2_until_timer_f(transport: UdpTransport) -> None:
    peer = await SilentPeer.start()
    try:
        timers = SipTimers(t1=0.05, t2=0.2)
        request = build_options_request(transport, peer.host, peer.port)
        txn = NonInviteClientTransaction(
            transport, request, peer.address, timers=timers, timeout=1.0
        )
        with pytest.raises(TransactionTimeout) as err:
            await txn.run()
        assert err.value.provisional is None
        copies = peer.received
        assert len({c.data for c in copies}) == 1  # identical retransmissions, same branch
        gaps = [b.at - a.at for a, b in itertools.pairwise(copies)]
        expected = [0.05, 0.1, 0.2, 0.2, 0.2, 0.2]  # sends at 0, .05, .15, .35, .55, .75, .95
        assert len(copies) == txn.sent_count == 7
        for gap, want in zip(gaps, expected, strict=True):
            assert want - 0.01 <= gap <= want + 0.06, (gaps, expected)
        assert transport.active_transactions == 0
    finally:
        peer.close()


async def test_provisional_switches_to_t2_then_final_completes(transport: UdpTransport) -> None:
    peer = await SilentPeer.start()
    try:
        timers = SipTimers(t1=0.05, t2=0.15)
        request = build_options_request(transport, peer.host, peer.port)
        provisionals: list[SipResponse] = []
        txn = NonInviteClientTransaction(
            transport,
            request,
            peer.address,
            timers=timers,
            timeout=3.0,
            on_provisional=provisionals.append,
        )
        task = asyncio.create_task(txn.run())
        await wait_until(lambda: len(peer.received) == 1)
        first = peer.received[0]
        peer.send(reply(first.data, "100 Trying"), first.addr)
        await wait_until(lambda: len(provisionals) == 1)
        await wait_until(lambda: len(peer.received) >= 4, timeout=2)
        gaps = [b.at - a.at for a, b in zip(peer.received[1:], peer.received[2:], strict=False)]
        assert all(g >= 0.14 for g in gaps[1:]), gaps  # Proceeding: every T2
        peer.send(reply(first.data, "200 OK"), first.addr)
        response = await asyncio.wait_for(task, 2)
        assert response.status_code == 200
        assert txn.last_provisional is not None and txn.last_provisional.status_code == 100
    finally:
        peer.close()


async def test_matching_needs_branch_and_cseq_method(transport: UdpTransport) -> None:
    peer = await SilentPeer.start()
    try:
        request = build_options_request(transport, peer.host, peer.port)
        txn = NonInviteClientTransaction(
            transport, request, peer.address, timers=SipTimers(t1=1.0), timeout=2.0
        )
        task = asyncio.create_task(txn.run())
        await wait_until(lambda: len(peer.received) == 1)
        got = peer.received[0]
        wrong_method = reply(got.data, "200 OK", cseq_method="INFO")
        wrong_branch = reply(got.data, "200 OK").replace(txn.branch.encode(), b"z9hG4bKother")
        peer.send(wrong_method, got.addr)
        peer.send(wrong_branch, got.addr)
        await wait_until(lambda: transport.stats.unmatched_responses == 2)
        assert not task.done()
        peer.send(reply(got.data, "486 Busy Here"), got.addr)
        response = await asyncio.wait_for(task, 1)
        assert response.status_code == 486
    finally:
        peer.close()


async def test_timeout_after_provisional_carries_it(transport: UdpTransport) -> None:
    peer = await SilentPeer.start()
    try:
        request = build_options_request(transport, peer.host, peer.port)
        txn = NonInviteClientTransaction(transport, request, peer.address, timeout=0.3)
        task = asyncio.create_task(txn.run())
        await wait_until(lambda: len(peer.received) == 1)
        peer.send(reply(peer.received[0].data, "183 Session Progress"), peer.received[0].addr)
        with pytest.raises(TransactionTimeout) as err:
            await task
        assert err.value.provisional is not None
        assert err.value.provisional.status_code == 183
    finally:
        peer.close()


async def test_request_without_rfc3261_branch_is_refused(transport: UdpTransport) -> None:
    request = build_options_request(transport, "127.0.0.1", 5060, branch="old-style-branch")
    with pytest.raises(ValueError, match="branch"):
        NonInviteClientTransaction(transport, request, ("127.0.0.1", 5060))


async def test_wrong_family_is_a_transport_error(transport: UdpTransport) -> None:
    request = build_options_request(transport, "::1", 5060)
    txn = NonInviteClientTransaction(transport, request, ("::1", 5060), timeout=0.5)
    with pytest.raises(TransportError):
        await txn.run()


async def test_requests_reach_the_dialog_registered_for_their_call_id(
    transport: UdpTransport,
) -> None:
    seen: list[SipRequest] = []

    class Recorder:
        def on_request(self, request: SipRequest, addr: Address) -> None:
            seen.append(request)

        def on_stray_response(self, response: SipResponse, addr: Address) -> None:
            pass

    peer = await SilentPeer.start()
    try:
        transport.register_dialog("call-1", Recorder())
        bye = (
            "BYE sip:x@{0} SIP/2.0\r\nVia: SIP/2.0/UDP {1};branch=z9hG4bKb1\r\n"
            "From: <sip:a@b>;tag=1\r\nTo: <sip:x@y>;tag=2\r\nCall-ID: {2}\r\nCSeq: 2 BYE\r\n\r\n"
        )
        peer.send(
            bye.format(transport.sent_by, peer.target, "call-1").encode(), transport_addr(transport)
        )
        peer.send(
            bye.format(transport.sent_by, peer.target, "call-2").encode(), transport_addr(transport)
        )
        await wait_until(lambda: len(seen) == 1 and len(peer.received) == 1)
        assert seen[0].method == "BYE"
        # the unknown dialog got 481 from the out-of-dialog handler
        answer = parse_message(peer.received[0].data)
        assert isinstance(answer, SipResponse) and answer.status_code == 481
        assert answer.call_id == "call-2"
    finally:
        transport.unregister_dialog("call-1")
        peer.close()


def transport_addr(transport: UdpTransport) -> tuple[str, int]:
    return (transport.local_host, transport.local_port)


async def test_out_of_dialog_options_answered_200_per_sipp(
    transport: UdpTransport, start_sipp: StartSipp
) -> None:
    # sipp's uac_options.xml counts a call as successful only on a 200
    sipp = await start_sipp("uac_options.xml", calls=1, remote=transport.sent_by)
    assert await sipp.wait(10) == 0, sipp.output()[-1500:]
    assert [m.status_code for m in sipp.messages() if m.direction == "received"] == [200]
