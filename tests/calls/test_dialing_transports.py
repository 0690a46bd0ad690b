"""ProviderCalls over the provider's transport: a provider set to `tcp` is dialed over TCP
(sipp -t t1 listens on TCP only), and the carrier's BYE comes back over our connection."""

from __future__ import annotations

import aiohttp

from tests.support.calls import (
    SippFactory,
    call_body,
    create_provider,
    post_providercall,
    wait_call,
)

HOLD = [{"type": "pause", "option": {"duration": 20000}}]


async def test_a_tcp_provider_is_dialed_over_tcp(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_answer_then_bye.xml", transport="t1") as carrier:
        provider = await create_provider(calls_api, admin_headers, carrier.target, transport="tcp")
        created = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], "+821012345678", actions=HOLD)
        )
        call = await wait_call(calls_api, admin_headers, created["call_ids"][0], "hangup")
    assert (call["hangup_reason"], call["hangup_by"]) == ("normal", "remote")
    [invite] = carrier.received("INVITE")
    assert "Via: SIP/2.0/TCP " in invite.text and ";transport=tcp>" in invite.text
    assert carrier.errors() == ""
