"""The transactional outbox: a provider created while provider-manager's broker link is down
still has its event delivered, exactly once, when the link comes back.

This provider-manager runs on its own database and queue prefix: the session's
provider-manager polls the session database's outbox and would otherwise publish the row
itself, proving nothing. Its broker connection goes through a TcpProxy the test severs.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
from aio_pika.abc import AbstractRobustConnection
from provider_manager.app import ProviderManagerApp
from provider_manager.settings import SERVICE, Settings
from provider_manager.tables import outbox, providers
from shared.contracts.providers import ProviderCreate
from sqlalchemy import func, select

from tests.support.events import EventCollector
from tests.support.polling import eventually
from tests.support.tcp_proxy import TcpProxy


async def _count(app: ProviderManagerApp, table: Any) -> int:
    async with app.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_event_of_a_provider_created_during_an_outage_is_delivered_once(
    isolated: tuple[Settings, TcpProxy], broker: AbstractRobustConnection
) -> None:
    settings, proxy = isolated
    collector = EventCollector()
    # The collector listens on a direct connection, which the proxy does not touch.
    await collector.start(broker, settings.event_exchange(SERVICE))
    app = ProviderManagerApp(settings)
    await app.start()
    try:
        # Sanity: with the link up, an event flows.
        before = await app.providers.create(
            str(uuid.uuid4()), ProviderCreate(type="sip", hostname="before.example.com")
        )
        await collector.wait_for("provider_created", id=before["id"])

        await proxy.sever()
        during = await app.providers.create(
            str(uuid.uuid4()), ProviderCreate(type="sip", hostname="during.example.com")
        )
        # The relay was woken by the commit and failed; give the connection time to try
        # (and fail) to reconnect, then check nothing leaked out and the row is kept.
        refused = proxy.refused
        await eventually(
            lambda: _true(proxy.refused > refused), 10.0, message="a refused reconnect"
        )
        assert collector.of_type("provider_created", id=during["id"]) == []
        assert await _count(app, outbox) == 1
        assert await _count(app, providers) == 2
        # Its ops endpoint tells the orchestrator it is not ready meanwhile.
        assert await _readyz(app) == (503, {"database": True, "broker": False})

        proxy.restore()
        [event] = await collector.wait_for("provider_created", timeout=30.0, id=during["id"])
        assert event["data"] == during
        assert event["publisher"] == "provider-manager"
        # Once the outbox is empty every publish is confirmed: still exactly one event.
        await eventually(lambda: _empty(app), 10.0, message="outbox drained")
        assert len(collector.of_type("provider_created", id=during["id"])) == 1
        assert len(collector.of_type("provider_created", id=before["id"])) == 1
        assert await _readyz(app) == (200, {"database": True, "broker": True})
    finally:
        await app.stop()
        await collector.stop()


async def _readyz(app: ProviderManagerApp) -> tuple[int, dict[str, bool]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{app.bound_ops_port}/readyz") as resp,
    ):
        return resp.status, (await resp.json())["checks"]


async def _true(value: bool) -> bool:
    return value


async def _empty(app: ProviderManagerApp) -> bool:
    return await _count(app, outbox) == 0
