"""OutboundCall against sipp playing the carrier (scenarios in ./scenarios).

Each scenario runs with -m 1, so sipp exits 0 only when the call went exactly as scripted
(e.g. the ACK for a 486 really arrived); its message trace shows what we sent.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from shared.sip.call import CallEventKind, CallState, OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.testing.sipp import CallTo, StartSipp, TracedMessage
from shared.sip.testing.udp_peers import SilentPeer
from shared.sip.testing.waiting import wait_until
from shared.sip.timers import SipTimers
from shared.sip.transport import UdpTransport


def header(message: TracedMessage, name: str) -> str | None:
    return parse_message(message.text.encode()).headers.get(name)


async def test_builtin_uas_answer_then_our_bye(
    transport: UdpTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp(calls=1)  # the built-in uas ends with a 4 s timewait
    call = OutboundCall(
        transport, resolver, CallSpec(request_uri=f"sip:service@{sipp.target}", from_user="1001")
    )
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.ANSWERED and outcome.status_code == 200
    assert call.state is CallState.ANSWERED
    assert outcome.remote_media is not None and outcome.remote_media.port == sipp.media_port
    response = await call.bye()
    assert response is not None and response.status_code == 200
    assert call.history[-1].kind is CallEventKind.LOCAL_HANGUP
    assert await sipp.wait(10) == 0, sipp.output()[-2000:]
    [ack] = sipp.received("ACK")
    [bye] = sipp.received("BYE")
    [ok] = [m for m in sipp.messages() if m.direction == "sent" and m.status_code == 200][:1]
    contact = (header(ok, "Contact") or "").strip("<>")
    assert ack.start_line == f"ACK {contact} SIP/2.0"  # the 2xx ACK goes to the Contact
    assert header(ack, "CSeq") == "1 ACK"
    assert header(bye, "CSeq") == "2 BYE"
    assert bye.start_line == f"BYE {contact} SIP/2.0"
    [invite] = sipp.received("INVITE")
    assert parse_message(ack.text.encode()).branch != parse_message(invite.text.encode()).branch


async def test_answer_with_header_checks_and_exact_request_uri(
    transport: UdpTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_invite_answer_check.xml", calls=1)
    request_uri = f"sip:990049301234567@{sipp.target}"
    spec = CallSpec(
        request_uri=request_uri,
        from_user="4930111222",
        from_display="Campaign",
        privacy="id",
        asserted_identity="+4930111222",
        extra_headers=[("X-Campaign-Id", "camp-42"), ("x-Trace-ID", "AbC-9")],
    )
    call = OutboundCall(transport, resolver, spec)
    events: list[str] = []
    outcome = await call.invite()
    async for event in call.events():
        events.append(f"{event.kind}:{event.status_code}:{'sdp' if event.sdp else '-'}")
        if event.kind is CallEventKind.ANSWERED:
            break
    assert outcome.kind is CallEventKind.ANSWERED
    assert events == [
        "progress:100:-",
        "progress:180:-",
        "progress:183:sdp",
        "answered:200:sdp",
    ]
    await call.bye()
    assert await sipp.wait(10) == 0, sipp.errors() + sipp.output()[-2000:]
    assert "INVITE ok: Privacy=id PAI=tel:+4930111222 X-Campaign-Id=camp-42" in sipp.logs()
    [invite] = sipp.received("INVITE")
    assert invite.start_line == f"INVITE {request_uri} SIP/2.0"
    lines = invite.text.split("\n")
    assert "X-Campaign-Id: camp-42" in lines  # case as given, verbatim
    assert "x-Trace-ID: AbC-9" in lines
    assert "Privacy: id" in lines
    assert "P-Asserted-Identity: <tel:+4930111222>" in lines
    assert any(line.startswith('From: "Campaign" <sip:4930111222@') for line in lines)
    assert sipp.errors() == ""


async def test_busy_fails_486_and_is_acked(call_to: CallTo, start_sipp: StartSipp) -> None:
    sipp = await start_sipp("uas_invite_busy.xml", calls=1)
    call = call_to(f"sip:123@{sipp.target}")
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.FAILED
    assert (outcome.status_code, outcome.reason) == (486, "Busy Here")
    assert call.state is CallState.FAILED
    assert await sipp.wait(10) == 0, sipp.output()[-2000:]
    [invite] = sipp.received("INVITE")
    [ack] = sipp.received("ACK")
    inv, ack_msg = parse_message(invite.text.encode()), parse_message(ack.text.encode())
    assert ack.start_line == invite.start_line.replace("INVITE", "ACK", 1)
    assert ack_msg.branch == inv.branch  # part of the INVITE transaction
    assert ack_msg.cseq == (1, "ACK")
    assert ack_msg.to_tag is not None and ack_msg.from_tag == inv.from_tag
    assert ack_msg.call_id == inv.call_id


async def test_ring_then_cancel_487_is_acked(call_to: CallTo, start_sipp: StartSipp) -> None:
    sipp = await start_sipp("uas_invite_ring_cancel.xml", calls=1)
    call = call_to(f"sip:123@{sipp.target}")
    invite_task = asyncio.create_task(call.invite())
    async for event in call.events():
        if event.status_code == 180:
            break
    cancelled = await call.cancel()
    assert cancelled is not None and cancelled.kind is CallEventKind.CANCELLED
    assert cancelled.status_code == 487
    assert (await invite_task) is cancelled
    assert await sipp.wait(10) == 0, sipp.output()[-2000:]
    [invite] = sipp.received("INVITE")
    [cancel] = sipp.received("CANCEL")
    [ack] = sipp.received("ACK")
    inv, can = parse_message(invite.text.encode()), parse_message(cancel.text.encode())
    assert cancel.start_line == invite.start_line.replace("INVITE", "CANCEL", 1)
    assert can.branch == inv.branch and can.cseq == (1, "CANCEL")
    assert can.to_tag is None and can.headers.get("To") == inv.headers.get("To")
    assert can.headers.get("From") == inv.headers.get("From") and can.call_id == inv.call_id
    assert parse_message(ack.text.encode()).cseq == (1, "ACK")


async def test_carrier_bye_is_answered_and_reported(call_to: CallTo, start_sipp: StartSipp) -> None:
    sipp = await start_sipp("uas_invite_remote_bye.xml", calls=1)
    call = call_to(f"sip:123@{sipp.target}")
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.ANSWERED
    assert outcome.remote_media is not None and outcome.remote_media.codec is not None
    assert outcome.remote_media.codec.name == "PCMA"
    ended = await call.wait_ended(timeout=5)
    assert ended.kind is CallEventKind.REMOTE_HANGUP
    assert ended.reason is not None and "cause=16" in ended.reason
    assert call.state is CallState.ENDED
    assert call.rtp is not None and not call.rtp.active
    assert await sipp.wait(10) == 0, sipp.output()[-2000:]  # sipp got its 200 to the BYE
    [bye_ok] = [m for m in sipp.messages() if m.direction == "received" and m.status_code == 200]
    assert header(bye_ok, "CSeq") == "1 BYE"


async def test_service_unavailable_fails_503(call_to: CallTo, start_sipp: StartSipp) -> None:
    sipp = await start_sipp("uas_invite_503.xml", calls=1)
    call = call_to(f"sip:123@{sipp.target}")
    outcome = await call.invite()
    assert (outcome.kind, outcome.status_code) == (CallEventKind.FAILED, 503)
    assert outcome.reason == "Service Unavailable"
    assert await sipp.wait(10) == 0, sipp.output()[-2000:]
    assert len(sipp.received("ACK")) == 1


async def test_silent_target_times_out_with_timer_b(call_to: CallTo) -> None:
    peer = await SilentPeer.start()
    try:
        timers = SipTimers(t1=0.05)  # Timer B = 3.2 s
        call = call_to(f"sip:123@{peer.target}", timers=timers)
        started = time.monotonic()
        outcome = await call.invite()
        elapsed = time.monotonic() - started
        assert outcome.kind is CallEventKind.FAILED and outcome.status_code is None
        assert outcome.error is not None and "Timer B" in outcome.error
        assert 3.1 <= elapsed < 3.6
        gaps = [b.at - a.at for a, b in itertools.pairwise(peer.received)]
        # Timer A: 0.05, 0.1, 0.2, 0.4, 0.8, 1.6 (no T2 cap for INVITE)
        assert len(peer.received) == 7
        for gap, want in zip(gaps, [0.05, 0.1, 0.2, 0.4, 0.8, 1.6], strict=True):
            assert gap == pytest.approx(want, abs=0.05)
    finally:
        peer.close()


async def test_rtp_silence_reaches_sipp_media_port(call_to: CallTo, start_sipp: StartSipp) -> None:
    sipp = await start_sipp(calls=1, extra_args=("-rtp_echo",))
    call = call_to(f"sip:service@{sipp.target}")
    assert (await call.invite()).kind is CallEventKind.ANSWERED
    assert call.remote_media is not None and call.remote_media.port == sipp.media_port
    # sipp -rtp_echo bounces our packets back to the RTP socket they came from: the stream
    # reads them and latches to sipp's media source (symmetric RTP)
    rtp = call.rtp
    assert rtp is not None
    await wait_until(lambda: rtp.packets_received >= 5, timeout=3)
    assert rtp.packets_sent >= 5
    assert rtp.latched_to is not None and rtp.latched_to[1] == sipp.media_port
    await call.bye()
    assert await sipp.wait(10) == 0
