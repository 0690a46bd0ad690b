"""shared.events.publishing: the one place a service commits a transaction that wrote outbox
events and then wakes its relay. The relay must be woken only once the events are committed
(it would find nothing otherwise), never for a rollback, and not for a transaction that
queued nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from provider_manager.settings import SERVICE
from provider_manager.tables import outbox
from shared.db import create_engine, session_factory
from shared.events import add_event, after_commit, publishing
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.databases import private_database

PROVIDER = {"id": "2b4f0a64-5a1c-4a43-9a57-8c3e0a0e6f11", "hostname": "sip.example.com"}


@pytest.fixture
async def sessions(platform_env: dict[str, Any]) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with private_database(platform_env, "publishing", ["provider-manager"]) as url:
        engine = create_engine(url, pool_size=2)
        try:
            yield session_factory(engine)
        finally:
            await engine.dispose()


async def _committed(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Outbox rows visible to another transaction, i.e. committed ones."""
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(outbox))).scalar_one())


async def test_relay_is_woken_once_the_events_are_committed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    in_transaction_at_wake: list[bool] = []

    def wake() -> None:
        in_transaction_at_wake.append(session.in_transaction())

    async with publishing(sessions, wake) as session:
        await add_event(session, outbox, SERVICE, "provider_created", PROVIDER)
        assert in_transaction_at_wake == []
    assert in_transaction_at_wake == [False]
    assert await _committed(sessions) == 1


async def test_after_commit_actions_run_before_the_wake(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    order: list[str] = []
    async with publishing(sessions, lambda: order.append("wake")) as session:
        await add_event(session, outbox, SERVICE, "provider_created", PROVIDER)
        after_commit(session, lambda: order.append("first"))
        after_commit(session, lambda: order.append("second"))
        assert order == []
    assert order == ["first", "second", "wake"]


async def test_a_rolled_back_transaction_wakes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    order: list[str] = []
    with pytest.raises(RuntimeError, match="refused"):
        async with publishing(sessions, lambda: order.append("wake")) as session:
            await add_event(session, outbox, SERVICE, "provider_created", PROVIDER)
            after_commit(session, lambda: order.append("action"))
            raise RuntimeError("refused")
    assert order == []
    assert await _committed(sessions) == 0


async def test_a_transaction_without_events_does_not_wake_the_relay(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    woken: list[str] = []
    async with publishing(sessions, lambda: woken.append("wake")) as session:
        await session.execute(select(func.count()).select_from(outbox))
    assert woken == []
    # Nor does the next transaction inherit a flag: each one starts without events.
    async with publishing(sessions, lambda: woken.append("wake")) as session:
        await add_event(session, outbox, SERVICE, "provider_updated", {**PROVIDER, "n": 1})
    assert woken == ["wake"]


async def test_without_a_relay_events_are_still_committed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with publishing(sessions, None) as session:
        await add_event(session, outbox, SERVICE, "provider_deleted", PROVIDER)
    assert await _committed(sessions) == 1
