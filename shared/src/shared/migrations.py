"""Alembic per service: each service migrates its own schema with its own version table."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.db import async_url


class DatabaseUnavailable(RuntimeError):
    pass


def _safe(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.split("@")[-1]
    user = parts.netloc.split("@")[0].split(":")[0] if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}" if user else netloc))


async def ensure_database(url: str) -> None:
    """Create the database named in `url` when it does not exist yet."""
    plain = async_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)
    parts = urlsplit(plain)
    name = parts.path.lstrip("/") or "postgres"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        conn = await asyncpg.connect(admin_url, timeout=5)
    except Exception as exc:
        raise DatabaseUnavailable(
            f"PostgreSQL is unreachable at {_safe(url)} ({exc.__class__.__name__}: {exc}). "
            "Start it (e.g. `pg_ctlcluster 15 main start`) or set DATABASE_URL."
        ) from exc
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # created meanwhile by another service starting in parallel
    finally:
        await conn.close()


def upgrade(database_url: str, script_location: Path, schema: str) -> None:
    """Run a service's migrations to head. Call from sync code (or asyncio.to_thread)."""
    asyncio.run(ensure_database(database_url))
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = schema
    command.upgrade(config, "head")


def run_env(context: Any, metadata: MetaData) -> None:
    """The body of every service's alembic env.py (online mode, asyncpg)."""
    url: str = context.config.attributes["database_url"]
    schema: str = context.config.attributes["schema"]

    def migrate(connection: Any) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=f"alembic_version_{schema}",
            version_table_schema=schema,
            include_schemas=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(async_url(url), poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                # Replicas starting together migrate one at a time.
                await conn.execute(text("SELECT pg_advisory_lock(hashtext(:s))"), {"s": schema})
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                await conn.commit()
                await conn.run_sync(migrate)
                await conn.commit()
                await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:s))"), {"s": schema})
        finally:
            await engine.dispose()

    asyncio.run(run())
