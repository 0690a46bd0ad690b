"""The RPC layer on the real broker (timeouts, expiry, reconnects)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
async def proxy(platform_env: dict[str, Any]) -> AsyncIterator[TcpProxy]:
    """A TcpProxy to the broker that only this test's connections use (drops stay local)."""
    proxy = TcpProxy.for_url(platform_env["AMQP_URL"])
    await proxy.start()
    yield proxy
    await proxy.stop()
