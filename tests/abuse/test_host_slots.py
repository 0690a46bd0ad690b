"""The per-destination-host cap on INVITEs in flight (CALL_MANAGER_HOST_MAX_INVITES), through
a real gateway and call-manager: calls to one host past the cap wait for a slot (they are
neither sent nor refused), calls to other hosts go on, and a waiting call hung up never
sends its INVITE.

A stack of its own (one call-manager replica, the cap at 2, room for ten calls per
customer) on the package's database: the cap is per replica, and the package's two
replicas share requests between them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from api_gateway.app import GatewayApp
from api_gateway.settings import Settings as GatewaySettings
from call_manager.app import CallManagerApp
from call_manager.dialing.sip_dialer import SipDialer
from call_manager.settings import Settings as CallManagerSettings
from provider_manager.app import ProviderManagerApp
from provider_manager.settings import Settings as ProviderManagerSettings
from shared.sip.testing.udp_peers import SilentPeer

from tests.support.calls import request_json as call
from tests.support.isolated_calls import (
    RingingPeer,
    calls_body,
    customer,
    invite_call_ids,
    listed_calls,
    wait_all_hung_up,
)
from tests.support.isolated_stack import ALLOWED_HOST, CALL_MANAGER_ENV, ISOLATED_ADMIN_PASSWORD
from tests.support.polling import eventually

CAP = 2
OTHER_HOST = "127.0.0.3"


@dataclass(frozen=True)
class CappedStack:
    http: aiohttp.ClientSession
    call_manager: CallManagerApp

    def in_flight(self, host: str) -> int:
        dialer = self.call_manager.dialer
        assert isinstance(dialer, SipDialer) and dialer.host_slots is not None
        return dialer.host_slots.in_flight(host)


@pytest.fixture(scope="module")
async def capped(isolated_env: dict[str, Any]) -> AsyncIterator[CappedStack]:
    env = {**isolated_env, "QUEUE_PREFIX": f"test-abuse-cap-{uuid.uuid4().hex[:8]}"}
    providers = ProviderManagerApp(
        ProviderManagerSettings.model_validate({**env, "PROVIDER_MANAGER_OPS_PORT": 0})
    )
    call_manager = CallManagerApp(
        CallManagerSettings.model_validate(
            {
                **env,
                **CALL_MANAGER_ENV,
                "CALL_MANAGER_HOST_MAX_INVITES": CAP,
                "CALL_MANAGER_CUSTOMER_MAX_CALLS": 10,
                "CALL_MANAGER_DIAL_ALLOW": f"{ALLOWED_HOST}/32, {OTHER_HOST}/32",
            }
        )
    )
    gateway = GatewayApp(
        GatewaySettings.model_validate(
            {
                **env,
                "GATEWAY_PORT": 0,
                "GATEWAY_OPS_PORT": 0,
                "ADMIN_PASSWORD": ISOLATED_ADMIN_PASSWORD,
                "JWT_SECRET": "cap-" + uuid.uuid4().hex + uuid.uuid4().hex,
            }
        )
    )
    started: list[Any] = []
    try:
        for app in (providers, call_manager, gateway):
            await app.start()
            started.append(app)
        async with aiohttp.ClientSession(
            base_url=f"http://127.0.0.1:{gateway.port}", cookie_jar=aiohttp.DummyCookieJar()
        ) as http:
            yield CappedStack(http, call_manager)
    finally:
        for app in reversed(started):
            await app.stop()


@pytest.fixture
async def ringing_peers() -> AsyncIterator[list[SilentPeer]]:
    """Two ports of one host that ring until hung up, and a host of their own."""
    peers = [
        await RingingPeer.start(ALLOWED_HOST),
        await RingingPeer.start(ALLOWED_HOST),
        await RingingPeer.start(OTHER_HOST),
    ]
    yield peers
    for peer in peers:
        peer.close()


def _invites(*peers: SilentPeer) -> int:
    return sum(len(invite_call_ids(peer.received)) for peer in peers)


async def test_invites_to_one_host_past_the_cap_wait_for_a_slot(
    capped: CappedStack, isolated_database: str, ringing_peers: list[SilentPeer]
) -> None:
    http = capped.http
    first, second, other = ringing_peers
    who = await customer(http, isolated_database)
    targets = [f"a@{first.target}"] * 3 + [f"b@{second.target}"]
    made = await call(http, "POST", "/v1.0/calls", who.headers, calls_body(*targets))
    created = [c["id"] for c in made["calls"]]
    assert len(created) == 4  # all accepted: the cap queues, it does not refuse
    try:

        async def ringing() -> list[str]:
            found = [c["id"] for c in await listed_calls(http, who) if c["status"] == "ringing"]
            return found if len(found) == CAP else []

        ringing_ids = await eventually(ringing, 15, message=f"{CAP} calls ringing")
        # Another host is not held up by this one's cap.
        made = await call(http, "POST", "/v1.0/calls", who.headers, calls_body(f"c@{other.target}"))
        created += [c["id"] for c in made["calls"]]

        async def other_rings() -> bool:
            return _invites(other) == 1

        await eventually(other_rings, 15, message="the other host's INVITE")
        # By now a third INVITE to the capped host (ports alike) would have come too.
        assert _invites(first, second) == CAP
        assert capped.in_flight(ALLOWED_HOST) == CAP
        waiting = [c for c in created[:4] if c not in ringing_ids]
        statuses = {c["id"]: c["status"] for c in await listed_calls(http, who)}
        assert [statuses[c] for c in waiting] == ["dialing", "dialing"]

        # One ringing call ends: its slot goes to one waiting call, not both.
        await call(http, "POST", f"/v1.0/calls/{ringing_ids[0]}/hangup", who.headers)

        async def third_sent() -> bool:
            return _invites(first, second) == CAP + 1

        await eventually(third_sent, 15, message="a waiting call's INVITE")

        async def one_rings() -> list[str]:
            statuses = {c["id"]: c["status"] for c in await listed_calls(http, who)}
            if sorted(statuses[c] for c in waiting) != ["dialing", "ringing"]:
                return []
            return [c for c in waiting if statuses[c] == "dialing"]

        still_waiting = (await eventually(one_rings, 15, message="one waiting call rings"))[0]
        assert capped.in_flight(ALLOWED_HOST) == CAP
        # A call hung up while it waits never sends its INVITE, even once a slot frees.
        await call(http, "POST", f"/v1.0/calls/{still_waiting}/hangup", who.headers)

        async def ended() -> bool:
            return any(
                c["id"] == still_waiting and c["status"] == "hangup"
                for c in await listed_calls(http, who)
            )

        await eventually(ended, 15, message="the waiting call hung up")
    finally:
        for call_id in created:
            async with http.post(f"/v1.0/calls/{call_id}/hangup", headers=who.headers):
                pass
    await wait_all_hung_up(http, who)
    assert _invites(first, second) == CAP + 1
    assert capped.in_flight(ALLOWED_HOST) == 0
