"""Fair share per customer across two call-manager replicas: concurrent calls and new calls
per second, counted in PostgreSQL; a request fits whole or is refused whole (429)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from call_manager.app import CallManagerApp
from shared.sip.testing.udp_peers import SilentPeer, SipResponder
from sqlalchemy import text

from tests.support.calls import request_json as call
from tests.support.isolated_calls import (
    RingingPeer,
    calls_body,
    customer,
    invite_call_ids,
    listed_calls,
    refused,
    wait_all_hung_up,
)
from tests.support.isolated_stack import ALLOWED_HOST, MAX_CALLS
from tests.support.polling import eventually


@pytest.fixture
async def stack(
    iso_http: aiohttp.ClientSession, call_managers: list[CallManagerApp]
) -> aiohttp.ClientSession:
    return iso_http


@pytest.fixture
async def black_hole() -> AsyncIterator[SilentPeer]:
    """A host that rings for ever: its calls stay live until hung up (a silent host would
    end them by itself through the no-response timer)."""
    peer = await RingingPeer.start(ALLOWED_HOST)
    yield peer
    peer.close()


async def test_concurrent_calls_are_capped_across_replicas(
    stack: aiohttp.ClientSession,
    isolated_database: str,
    call_managers: list[CallManagerApp],
    black_hole: SilentPeer,
) -> None:
    who = await customer(stack, isolated_database)
    target = f"alice@{black_hole.target}"
    created: list[str] = []
    try:
        for _ in range(MAX_CALLS):
            made = await call(stack, "POST", "/v1.0/calls", who.headers, calls_body(target))
            created.append(made["calls"][0]["id"])
        data = await refused(stack, who, calls_body(target), 429, "TOO_MANY_CALLS")
        assert data["error"]["details"]["live"] == MAX_CALLS
        # Both replicas took part: the count is the customer's, not a replica's.
        async with call_managers[0].engine.connect() as conn:
            owners = (
                (
                    await conn.execute(
                        text(
                            "SELECT DISTINCT owner_replica FROM call_manager.calls "
                            "WHERE id = ANY(CAST(:i AS uuid[]))"
                        ),
                        {"i": created},
                    )
                )
                .scalars()
                .all()
            )
        assert set(owners) == {app.replica_id for app in call_managers}

        async def all_invited() -> bool:
            return len(invite_call_ids(black_hole.received)) == MAX_CALLS

        await eventually(all_invited, 10, message="an INVITE per admitted call")
        # One call ends: one slot is free, so a request for two is refused whole.
        await call(stack, "POST", f"/v1.0/calls/{created.pop()}/hangup", who.headers)

        async def freed() -> bool:
            live = [c for c in await listed_calls(stack, who) if c["status"] != "hangup"]
            return len(live) == MAX_CALLS - 1

        await eventually(freed, 10, message="the hung-up call ended")
        await refused(stack, who, calls_body(target, target), 429, "TOO_MANY_CALLS")
        made = await call(stack, "POST", "/v1.0/calls", who.headers, calls_body(target))
        created.append(made["calls"][0]["id"])
        await eventually(
            lambda: _count(black_hole, MAX_CALLS + 1), 10, message="one more INVITE, not two"
        )
        # Another customer is not affected by this one's share.
        other = await customer(stack, isolated_database)
        made = await call(stack, "POST", "/v1.0/calls", other.headers, calls_body(target))
        await call(stack, "POST", f"/v1.0/calls/{made['calls'][0]['id']}/hangup", other.headers)
    finally:
        for call_id in created:
            async with stack.post(f"/v1.0/calls/{call_id}/hangup", headers=who.headers):
                pass
    await wait_all_hung_up(stack, who)
    assert len(invite_call_ids(black_hole.received)) == MAX_CALLS + 2


async def _count(peer: SilentPeer, expected: int) -> bool:
    return len(invite_call_ids(peer.received)) == expected


async def test_new_calls_per_second_are_capped(
    stack: aiohttp.ClientSession, isolated_database: str
) -> None:
    """1 call per second averaged over 10 s: 9 calls in three quick requests fit, the next
    three would make 12 and are refused whole."""
    busy = await SipResponder.start(ALLOWED_HOST, status=486, reason="Busy Here", record=True)
    try:
        who = await customer(stack, isolated_database)
        target = f"alice@{busy.target}"
        for _ in range(3):
            await call(stack, "POST", "/v1.0/calls", who.headers, calls_body(*[target] * 3))
            await wait_all_hung_up(stack, who)
        data = await refused(stack, who, calls_body(*[target] * 3), 429, "TOO_MANY_CALLS")
        assert "per second" in data["error"]["message"]
        assert len(await listed_calls(stack, who)) == 9
        assert len(invite_call_ids(busy.received)) == 9
    finally:
        busy.close()
