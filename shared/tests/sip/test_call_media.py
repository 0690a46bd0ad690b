"""In-dialog offers, media liveness and unusable answers, with sipp as the carrier."""

from __future__ import annotations

import asyncio
import socket

from shared.sip.call import CallEventKind
from shared.sip.testing.sipp import CallTo, StartSipp
from shared.sip.testing.waiting import wait_until
from shared.sip.transport import UdpTransport


async def test_hold_reinvite_is_answered_recvonly_and_update_inactive(
    call_to: CallTo, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_hold_reinvite_update.xml", calls=1)
    call = call_to(f"sip:123@{sipp.target}")
    assert (await call.invite()).kind is CallEventKind.ANSWERED
    rtp = call.rtp
    assert rtp is not None
    await wait_until(
        lambda: call.remote_media is not None and call.remote_media.direction == "sendonly",
        timeout=5,
    )
    await wait_until(lambda: not rtp.sending, timeout=2)  # on hold: we only listen
    await wait_until(
        lambda: call.remote_media is not None and call.remote_media.direction == "inactive",
        timeout=5,
    )
    await wait_until(
        lambda: call.remote_media is not None and call.remote_media.direction == "sendrecv",
        timeout=5,
    )
    await wait_until(lambda: rtp.sending, timeout=2)  # resumed
    assert call.remote_media is not None and call.remote_media.codec is not None
    assert call.remote_media.codec.name == "PCMA"  # the session's codec is kept
    await call.bye()
    assert await sipp.wait(10) == 0, sipp.output()[-3000:]  # every answer matched its regexp
    answers = [m for m in sipp.messages() if m.direction == "received" and m.status_code == 200]
    bodies = [m.text for m in answers if "CSeq: 1 INVITE" in m.text or " UPDATE" in m.text]
    assert any("a=recvonly" in b for b in bodies)
    versions = [line for m in answers for line in m.text.splitlines() if line.startswith("o=")]
    assert len(set(versions)) == len(versions)  # each new answer bumps the o= version


async def test_no_rtp_ends_the_call_after_the_rtp_timeout(
    call_to: CallTo, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_answer_no_rtp.xml", calls=1)
    call = call_to(f"sip:123@{sipp.target}", rtp_timeout=1.5)
    answered = await call.invite()
    assert answered.kind is CallEventKind.ANSWERED
    ended = await call.wait_ended(timeout=10)
    assert ended.kind is CallEventKind.LOCAL_HANGUP and ended.cause == "rtp_timeout"
    assert ended.at - answered.at >= 1.4
    assert await sipp.wait(10) == 0, sipp.output()[-2000:]
    assert len(sipp.received("BYE")) == 1


async def test_rtp_keeps_the_call_up(call_to: CallTo, start_sipp: StartSipp) -> None:
    # sipp's built-in uas with -rtp_echo: our own silence comes back, so media is alive
    sipp = await start_sipp(calls=1, extra_args=("-rtp_echo",))
    call = call_to(f"sip:123@{sipp.target}", rtp_timeout=1.0)
    assert (await call.invite()).kind is CallEventKind.ANSWERED
    await asyncio.sleep(2.5)
    assert not call.ended and call.rtp is not None and call.rtp.packets_received > 50
    await call.bye()


async def test_answer_with_port_70000_is_acked_then_byed_and_others_unaffected(
    call_to: CallTo, start_sipp: StartSipp
) -> None:
    good = await start_sipp(calls=1, extra_args=("-rtp_echo",))
    other = call_to(f"sip:1@{good.target}")
    assert (await other.invite()).kind is CallEventKind.ANSWERED
    bad = await start_sipp("uas_answer_bad_port.xml", calls=1)
    call = call_to(f"sip:2@{bad.target}")
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.FAILED and outcome.status_code == 200
    assert outcome.error is not None and "unusable 2xx" in outcome.error
    assert await bad.wait(10) == 0, bad.output()[-2000:]  # ACK then BYE, as scripted
    assert len(bad.received("INVITE")) == 1
    # the RTP of the other call still flows on the shared ticker
    assert other.rtp is not None
    sent = other.rtp.packets_sent
    await wait_until(lambda: other.rtp is not None and other.rtp.packets_sent >= sent + 10)
    await other.bye()


async def test_garbage_datagrams_are_contained(transport: UdpTransport) -> None:
    garbage = [
        b"SIP/2.0 \xc2\xb2\xc2\xb2\xc2\xb2 OK\r\nCSeq: 1 INVITE\r\n\r\n",
        "INVITE sip:a@b SIP/2.0\r\nCSeq: ²3 INVITE\r\nCall-ID: x\r\n\r\n".encode(),
        b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\nbody",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;rport=\xc2\xb9;branch=z9hG4bKx\r\n"
        b"CSeq: 1 INVITE\r\nCall-ID: nope\r\n\r\n",
        b"\x00\xff" * 700,
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP [::1\r\nCSeq: 1 OPTIONS\r\n\r\n",
    ]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(200):
            for data in garbage:
                sender.sendto(data, (transport.local_host, transport.local_port))
        await wait_until(lambda: transport.stats.received >= 1200, timeout=10)
        # still serving: an OPTIONS gets its 200
        sender.settimeout(3)
        # ;rport: the 200 comes back to this socket, not to the Via's port 9 (RFC 3581)
        sender.sendto(
            b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKa;rport\r\n"
            b"From: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: alive\r\n"
            b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
            (transport.local_host, transport.local_port),
        )
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(None, sender.recv, 4096)
        assert reply.startswith(b"SIP/2.0 200")
    finally:
        sender.close()
    assert transport.stats.parse_errors >= 600
    assert transport.stats.handler_errors == 0  # every bad input was refused as SIP, not a bug
