"""Login, tokens, access keys and the permission matrix, on the run's shared gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from api_gateway.app import GatewayApp


@pytest.fixture(scope="module")
async def anon(gateway: GatewayApp) -> AsyncIterator[aiohttp.ClientSession]:
    """The shared gateway without a cookie jar: only the credentials a case names reach it."""
    async with aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{gateway.port}", cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        yield session
