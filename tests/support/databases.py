"""Throwaway databases: a suite that must not see (or be seen by) the rest of the run gets
one of its own, migrated for the services it starts and dropped at the end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from api_gateway.app import migrate as migrate_gateway
from api_gateway.settings import Settings as GatewaySettings
from call_manager.app import migrate as migrate_call_manager
from call_manager.settings import Settings as CallManagerSettings
from health_checker.app import migrate as migrate_health_checker
from health_checker.settings import Settings as HealthCheckerSettings
from provider_manager.app import migrate as migrate_provider_manager
from provider_manager.settings import Settings as ProviderManagerSettings
from shared.db import async_url

from tests.support.backends import with_database

Migration = Callable[[dict[str, Any]], None]

MIGRATIONS: dict[str, Migration] = {
    "provider-manager": lambda env: migrate_provider_manager(
        ProviderManagerSettings.model_validate(env)
    ),
    "api-gateway": lambda env: migrate_gateway(GatewaySettings.model_validate(env)),
    "call-manager": lambda env: migrate_call_manager(CallManagerSettings.model_validate(env)),
    "health-checker": lambda env: migrate_health_checker(HealthCheckerSettings.model_validate(env)),
}


def migrate_all(env: dict[str, Any], services: Iterable[str] = MIGRATIONS) -> None:
    """Migrate each named service's schema in env's DATABASE_URL (blocking: each migration
    runs an event loop of its own)."""
    for service in services:
        MIGRATIONS[service](env)


async def drop_database(url: str, name: str) -> None:
    """Drop database `name` on the server of `url`, whoever is still connected."""
    admin = async_url(with_database(url, "postgres")).replace("+asyncpg", "")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def private_database(
    env: dict[str, Any], label: str, services: Iterable[str] = MIGRATIONS
) -> AsyncIterator[str]:
    """The URL of a new database beside env's, migrated for `services`, dropped on exit."""
    name = f"voip_test_{label}_{uuid.uuid4().hex[:10]}"
    url = with_database(env["DATABASE_URL"], name)
    await asyncio.to_thread(migrate_all, {**env, "DATABASE_URL": url}, tuple(services))
    try:
        yield url
    finally:
        await drop_database(env["DATABASE_URL"], name)
