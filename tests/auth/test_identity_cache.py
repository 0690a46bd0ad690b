"""A token's account is read once for the requests that need it at the same moment."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client import REGISTRY

from tests.support.gateway_env import login


def _account_reads() -> float:
    return REGISTRY.get_sample_value("gateway_account_reads_total") or 0.0


async def test_concurrent_requests_with_a_new_token_share_one_account_read(
    http: aiohttp.ClientSession,
) -> None:
    headers = await login(http)  # a fresh token: nothing about it is cached yet
    before = _account_reads()

    async def one() -> int:
        async with http.get("/v1.0/providers?page_size=1", headers=headers) as resp:
            return resp.status

    assert await asyncio.gather(*(one() for _ in range(32))) == [200] * 32
    assert _account_reads() - before == 1


async def test_a_logout_is_not_undone_by_a_read_under_way(http: aiohttp.ClientSession) -> None:
    headers = await login(http)

    async def providers() -> int:
        async with http.get("/v1.0/providers?page_size=1", headers=headers) as resp:
            return resp.status

    async def logout() -> int:
        async with http.post("/auth/logout", headers=headers) as resp:
            return resp.status

    # The first requests' account read and the logout race; whatever the order, the token
    # is dead afterwards on this replica.
    statuses = await asyncio.gather(*(providers() for _ in range(8)), logout())
    assert statuses[-1] == 200
    assert await providers() == 401
