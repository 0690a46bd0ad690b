"""Events leaving the services: the transactional outbox, the commit that wakes its relay, and
the relay."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustConnection
from provider_manager.settings import SERVICE, Settings

from tests.support.databases import private_database
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
async def isolated(
    platform_env: dict[str, Any], broker: AbstractRobustConnection
) -> AsyncIterator[tuple[Settings, TcpProxy]]:
    async with private_database(platform_env, "outbox", ["provider-manager"]) as database:
        proxy = TcpProxy.for_url(platform_env["AMQP_URL"])
        await proxy.start()
        settings = Settings.model_validate(
            {
                "DATABASE_URL": database,
                "AMQP_URL": proxy.url(platform_env["AMQP_URL"]),
                "QUEUE_PREFIX": f"test-outbox-{uuid.uuid4().hex[:10]}",
                "PROVIDER_MANAGER_OPS_PORT": 0,
            }
        )
        try:
            yield settings, proxy
        finally:
            await proxy.stop()
            # The event exchange is durable and named for this test only: leave none behind.
            channel = await broker.channel()
            await channel.exchange_delete(settings.event_exchange(SERVICE))
            await channel.close()
