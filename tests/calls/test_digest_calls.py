"""ProviderCalls through a carrier that challenges with Digest (sipp checks the answers):
the password comes from provider-manager only when the challenge arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from shared.sip.call import NO_CREDENTIALS
from shared.sip.testing.sipp import SippProcess

from tests.support.calls import call_body, create_provider, hangup, post_providercall, wait_call
from tests.support.logs import debug_logs
from tests.support.polling import eventually

SIP_SCENARIOS = Path(__file__).parents[2] / "shared" / "tests" / "sip" / "scenarios"
HOLD = [{"type": "pause", "option": {"duration": 20000}}]
USER, PASSWORD = "trunk-42", "Digest-pw-for-calls"


def _carrier(tmp_path: Path) -> SippProcess:
    keys = {"algorithm": "MD5", "user": USER, "password": PASSWORD}
    return SippProcess(
        tmp_path / "carrier",
        scenario=SIP_SCENARIOS / "uas_invite_digest_401.xml",
        extra_args=tuple(arg for k, v in keys.items() for arg in ("-key", k, v)),
    )


async def _truthy(value: bool) -> bool | None:
    return value or None


async def test_a_challenged_call_is_answered_and_its_bye_signed(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    with debug_logs():
        call, carrier = await _challenged_call(calls_api, admin_headers, tmp_path)
        logs = capfd.readouterr()
    assert (call["hangup_reason"], call["hangup_by"]) == ("normal", "local")
    [attempt] = call["attempts"]
    assert attempt["sip_status_code"] == 200
    assert len(carrier.received("INVITE")) == 2 and len(carrier.received("BYE")) == 2
    # DEBUG logging of every service in this process saw the call, never the password.
    assert "provider_credentials_fetched" in logs.out
    assert PASSWORD not in logs.out and PASSWORD not in logs.err


async def _challenged_call(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], tmp_path: Path
) -> tuple[dict[str, Any], SippProcess]:
    async with _carrier(tmp_path) as carrier:
        provider = await create_provider(
            calls_api,
            admin_headers,
            carrier.target,
            auth_username=USER,
            auth_password=PASSWORD,
        )
        created = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], "+821012345678", actions=HOLD)
        )
        [call_id] = created["call_ids"]
        await wait_call(calls_api, admin_headers, call_id, "progressing")
        await hangup(calls_api, admin_headers, call_id)
        call: dict[str, Any] = await wait_call(calls_api, admin_headers, call_id, "hangup")
        await eventually(lambda: _truthy("bye verified" in carrier.logs()), 10)
    return call, carrier


async def test_a_challenge_without_credentials_fails_saying_so(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    async with _carrier(tmp_path) as carrier:
        provider = await create_provider(calls_api, admin_headers, carrier.target)
        created = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], "+821012345679")
        )
        [call_id] = created["call_ids"]
        call = await wait_call(calls_api, admin_headers, call_id, "hangup")
    [attempt] = call["attempts"]
    assert (attempt["sip_status_code"], attempt["sip_reason"]) == (401, NO_CREDENTIALS)
    assert call["hangup_by"] == "remote"
    assert len(carrier.received("INVITE")) == 1
