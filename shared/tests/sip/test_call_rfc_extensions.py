"""PRACK (RFC 3262), session timers (RFC 4028), 422 and 3xx, with sipp as the carrier.
Each scenario runs with -m 1: sipp exits 0 only if every request matched its checks."""

from __future__ import annotations

from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.testing.sipp import CallTo, StartSipp
from shared.sip.testing.waiting import wait_until
from shared.sip.transport import UdpTransport


async def test_reliable_183_is_pracked_with_rack(call_to: CallTo, start_sipp: StartSipp) -> None:
    sipp = await start_sipp("uas_prack.xml", calls=1)
    call = call_to(f"sip:1@{sipp.target}")
    assert (await call.invite()).kind is CallEventKind.ANSWERED
    await call.bye()
    assert await sipp.wait(10) == 0, sipp.output()[-3000:]
    [invite] = sipp.received("INVITE")
    assert "100rel" in (parse_message(invite.text.encode()).headers.get("supported") or "")
    [prack] = sipp.received("PRACK")
    headers = parse_message(prack.text.encode()).headers
    assert headers.get("rack") == "1 1 INVITE" and headers.get("cseq") == "2 PRACK"
    [bye] = sipp.received("BYE")
    assert parse_message(bye.text.encode()).headers.get("cseq") == "3 BYE"  # above the PRACK


async def test_session_refreshed_by_us_when_we_are_the_refresher(
    call_to: CallTo, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_session_refresh.xml", calls=1)
    call = call_to(f"sip:1@{sipp.target}")
    answered = await call.invite()
    assert answered.kind is CallEventKind.ANSWERED
    assert call.session_timer is not None and call.session_timer.refresher == "uac"
    await wait_until(lambda: call.session_refreshes > 0, timeout=6)
    assert call.session_refreshes == 1 and not call.ended
    await call.bye()
    assert await sipp.wait(10) == 0, sipp.output()[-3000:]  # the UPDATE came, at 2 s
    [update] = sipp.received("UPDATE")
    assert parse_message(update.text.encode()).headers.get("session-expires") == "4;refresher=uac"


async def test_no_refresh_from_the_refresher_ends_the_call(
    call_to: CallTo, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_session_expiry.xml", calls=1)
    call = call_to(f"sip:1@{sipp.target}")
    answered = await call.invite()
    ended = await call.wait_ended(timeout=8)
    assert ended.kind is CallEventKind.LOCAL_HANGUP and ended.cause == "session_expired"
    assert 1.8 <= ended.at - answered.at <= 4.0
    assert await sipp.wait(10) == 0, sipp.output()[-3000:]


async def test_422_is_retried_with_min_se(call_to: CallTo, start_sipp: StartSipp) -> None:
    sipp = await start_sipp("uas_422_min_se.xml", calls=1)
    call = call_to(f"sip:1@{sipp.target}")
    assert (await call.invite()).kind is CallEventKind.ANSWERED
    assert [a.status_code for a in call.target_attempts] == [422, 200]
    await call.bye()
    assert await sipp.wait(10) == 0, sipp.output()[-3000:]
    assert len(sipp.received("INVITE")) == 2


async def test_302_is_followed_to_its_sip_contact(call_to: CallTo, start_sipp: StartSipp) -> None:
    sipp = await start_sipp("uas_302_redirect.xml", calls=1)
    call = call_to(f"sip:1@{sipp.target}", max_redirects=2)
    assert (await call.invite()).kind is CallEventKind.ANSWERED
    assert call.invite_request is not None
    assert call.invite_request.uri.startswith("sip:redirected@")
    assert call.invite_request.headers.get("to") == f"<sip:1@{sipp.target}>"  # To is kept
    await call.bye()
    assert await sipp.wait(10) == 0, sipp.output()[-3000:]


async def test_302_fails_the_call_when_redirects_are_off_or_refused(
    transport: UdpTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_302_redirect.xml", calls=1)
    call = OutboundCall(
        transport,
        resolver,
        CallSpec(request_uri=f"sip:1@{sipp.target}"),
        max_redirects=2,
        redirect_check=lambda spec: False,
    )
    outcome = await call.invite()
    assert (outcome.kind, outcome.status_code) == (CallEventKind.FAILED, 302)
    assert len(sipp.received("INVITE")) == 1
