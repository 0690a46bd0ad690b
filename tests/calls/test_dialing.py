"""ProviderCalls that really dial: sipp plays the carrier on loopback."""

from __future__ import annotations

from typing import Any

import aiohttp
from shared.sip.rtp import default_ticker

from tests.support.calls import (
    SippFactory,
    call_body,
    create_provider,
    get_json,
    hangup,
    post_providercall,
    wait_call,
)
from tests.support.events import EventCollector
from tests.support.polling import eventually

HOLD = [{"type": "pause", "option": {"duration": 20000}}]


async def _one_call(
    http: aiohttp.ClientSession, headers: dict[str, str], hostname: str, **fields: Any
) -> tuple[dict[str, Any], str]:
    provider = await create_provider(http, headers, hostname)
    created = await post_providercall(
        http, headers, call_body(provider["id"], "+821012345678", **fields)
    )
    assert len(created["call_ids"]) == 1
    return created, created["call_ids"][0]


async def test_answer_then_carrier_bye_is_normal_remote(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_answer_then_bye.xml") as carrier:
        _, call_id = await _one_call(calls_api, admin_headers, carrier.target, actions=HOLD)
        call = await wait_call(calls_api, admin_headers, call_id, "hangup")
    assert (call["hangup_reason"], call["hangup_by"]) == ("normal", "remote")
    assert call["tm_ringing"] and call["tm_progressing"] and call["tm_hangup"]
    assert carrier.errors() == ""


async def test_answer_then_api_hangup_sends_bye(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    sipp: SippFactory,
    events: EventCollector,
) -> None:
    async with sipp("uas_answer_hold.xml") as carrier:
        _, call_id = await _one_call(calls_api, admin_headers, carrier.target, actions=HOLD)
        await wait_call(calls_api, admin_headers, call_id, "progressing")
        ticker = default_ticker()
        # RTP silence flows while the call is answered (the shared 20 ms ticker serves it).
        ticks = ticker.ticks
        await eventually(lambda: _async(ticker.stream_count >= 1 and ticker.ticks > ticks + 5), 5)
        answered = await hangup(calls_api, admin_headers, call_id)
        assert answered["status"] in ("terminating", "hangup")
        call = await wait_call(calls_api, admin_headers, call_id, "hangup")
        assert (call["hangup_reason"], call["hangup_by"]) == ("normal", "local")
        await eventually(lambda: _async(len(carrier.received("BYE")) == 1), 5)
    kinds = [e["type"] for e in events.events if (e.get("data") or {}).get("id") == call_id]
    await events.wait_for("call_hangup", id=call_id)
    kinds = [e["type"] for e in events.events if (e.get("data") or {}).get("id") == call_id]
    for kind in ("call_created", "call_dialing", "call_ringing", "call_progressing"):
        assert kind in kinds
    assert kinds.index("call_terminating") < kinds.index("call_hangup")


async def test_busy(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_busy.xml") as carrier:
        _, call_id = await _one_call(calls_api, admin_headers, carrier.target)
        call = await wait_call(calls_api, admin_headers, call_id, "hangup")
        await eventually(lambda: _async(len(carrier.received("ACK")) == 1), 5)
    assert (call["hangup_reason"], call["hangup_by"], call["sip_status_code"]) == (
        "busy",
        "remote",
        486,
    )
    assert call["tm_ringing"] and call["tm_progressing"] is None


async def test_ringing_then_api_hangup_cancels(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_ring_cancel.xml") as carrier:
        _, call_id = await _one_call(calls_api, admin_headers, carrier.target)
        await wait_call(calls_api, admin_headers, call_id, "ringing")
        cancelling = await hangup(calls_api, admin_headers, call_id)
        assert cancelling["status"] in ("canceling", "hangup")
        call = await wait_call(calls_api, admin_headers, call_id, "hangup")
        await eventually(lambda: _async(len(carrier.received("ACK")) == 1), 5)
        assert len(carrier.received("CANCEL")) == 1
    assert (call["hangup_reason"], call["hangup_by"]) == ("cancel", "local")


async def test_ring_timeout_is_noanswer(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_ring_cancel.xml") as carrier:
        _, call_id = await _one_call(calls_api, admin_headers, carrier.target)
        call = await wait_call(calls_api, admin_headers, call_id, "hangup", timeout=20)
        assert len(carrier.received("CANCEL")) == 1
    assert (call["hangup_reason"], call["hangup_by"]) == ("noanswer", "local")


async def test_503_is_failed(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_503.xml") as carrier:
        _, call_id = await _one_call(calls_api, admin_headers, carrier.target)
        call = await wait_call(calls_api, admin_headers, call_id, "hangup")
    assert (call["hangup_reason"], call["sip_status_code"]) == ("failed", 503)


async def test_unresolvable_provider_host_is_failed(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> None:
    _, call_id = await _one_call(calls_api, admin_headers, "no-such-carrier.invalid")
    call = await wait_call(calls_api, admin_headers, call_id, "hangup")
    assert (call["hangup_reason"], call["hangup_by"]) == ("failed", "local")
    assert call["tm_ringing"] is None


async def test_invite_carries_uri_affixes_headers_and_privacy_only_when_anonymous(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_answer_hold.xml") as carrier:
        provider = await create_provider(
            calls_api,
            admin_headers,
            carrier.target,
            tech_prefix="99",
            tech_postfix="77",
            tech_headers={"X-Campaign-Id": "camp-1", "x-Trunk-TAG": "MiXeD"},
        )
        hidden = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], "+821011112222", anonymous="yes")
        )
        shown = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], "+821033334444", anonymous="")
        )
        for call_id in hidden["call_ids"] + shown["call_ids"]:
            await wait_call(calls_api, admin_headers, call_id, "hangup")
        invites = {m.start_line: m.text for m in carrier.received("INVITE")}
    assert shown["anonymous"] == "auto"
    uri = f"sip:99+82101111222277@{carrier.target}"
    anonymous = invites[f"INVITE {uri} SIP/2.0"]
    lines = anonymous.splitlines()
    assert "X-Campaign-Id: camp-1" in lines
    assert "x-Trunk-TAG: MiXeD" in lines
    assert "Privacy: id" in lines
    assert "P-Asserted-Identity: <tel:+14155551234>" in lines
    assert any(
        line.startswith('From: "Anonymous" <sip:anonymous@anonymous.invalid>') for line in lines
    )
    assert "+14155551234" not in next(line for line in lines if line.startswith("From:"))
    plain = invites[f"INVITE sip:99+82103333444477@{carrier.target} SIP/2.0"].splitlines()
    assert not any(line.lower().startswith(("privacy:", "p-asserted-identity:")) for line in plain)
    assert "X-Campaign-Id: camp-1" in plain
    from_line = next(line for line in plain if line.startswith("From:"))
    assert "+14155551234" in from_line and '"QA"' in from_line
    assert "m=audio" in anonymous and "PCMU" in anonymous and "telephone-event" in anonymous


async def test_several_destinations_list_ids_that_resolve(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_busy.xml") as carrier:
        provider = await create_provider(calls_api, admin_headers, carrier.target)
        targets = ("+821000000001", "+821000000002", "+821000000003")
        created = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], *targets)
        )
        assert len(created["call_ids"]) == 3 and created["groupcall_ids"] == []
        assert created["tm_delete"] is None and created["customer_id"]
        seen = set()
        for call_id in created["call_ids"]:
            call = await get_json(calls_api, f"/v1.0/calls/{call_id}", admin_headers)
            assert call["providercall_id"] == created["id"]
            assert call["provider_id"] == provider["id"]
            seen.add(call["destination"]["target"])
            await wait_call(calls_api, admin_headers, call_id, "hangup")
        assert seen == set(targets)
        fetched = await get_json(calls_api, f"/v1.0/providercalls/{created['id']}", admin_headers)
        assert fetched["call_ids"] == created["call_ids"]


async def _async(value: Any) -> Any:
    return value


async def test_without_a_source_the_record_keeps_null_and_the_call_goes_out_anonymous(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    """The seeds' `source` is nullable: omitted or null is stored and returned as null; the
    INVITE then carries RFC 3323's anonymous identity and no number at all."""
    async with sipp("uas_answer_hold.xml") as carrier:
        provider = await create_provider(calls_api, admin_headers, carrier.target)
        omitted = call_body(provider["id"])
        del omitted["source"]
        omitted["destinations"] = [{"type": "tel", "target": "+821055556666", "target_name": None}]
        created = [
            await post_providercall(calls_api, admin_headers, omitted),
            await post_providercall(
                calls_api,
                admin_headers,
                call_body(provider["id"], "+821077778888", source=None, anonymous=None),
            ),
        ]
        for record in created:
            await wait_call(calls_api, admin_headers, record["call_ids"][0], "hangup")
        invites = [m.text for m in carrier.received("INVITE")]
    assert [record["source"] for record in created] == [None, None]
    assert created[1]["anonymous"] == "auto"
    for record in created:
        again = await get_json(calls_api, f"/v1.0/providercalls/{record['id']}", admin_headers)
        assert again["source"] is None
        call = await get_json(calls_api, f"/v1.0/calls/{record['call_ids'][0]}", admin_headers)
        assert call["source"] == {
            "type": "sip",
            "target": "anonymous@anonymous.invalid",
            "target_name": "Anonymous",
        }
    assert len(invites) == 2
    for text in invites:
        lines = text.splitlines()
        from_line = next(line for line in lines if line.startswith("From:"))
        assert from_line.startswith('From: "Anonymous" <sip:anonymous@anonymous.invalid>')
        assert not any(
            line.lower().startswith(("privacy:", "p-asserted-identity:")) for line in lines
        )
