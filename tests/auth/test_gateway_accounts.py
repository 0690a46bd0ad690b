"""The gateway's account store on the real database: first-start admin creation is safe
when several gateway replicas start at once, and access keys are stored only hashed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from api_gateway.accounts import AccountStore, hash_accesskey
from api_gateway.app import GatewayApp, ensure_admin
from api_gateway.permissions import Permission
from api_gateway.settings import Settings
from api_gateway.tables import accesskeys, accounts
from pydantic import SecretStr
from sqlalchemy import select


async def test_replicas_starting_together_create_one_admin(
    gateway: GatewayApp, platform_env: dict[str, Any]
) -> None:
    username = f"admin-{uuid.uuid4().hex[:8]}"
    settings = Settings.model_validate(platform_env).model_copy(
        update={"admin_username": username, "admin_password": SecretStr("replica-password-1")}
    )
    store = AccountStore(gateway.sessions)
    # Both pass the "exists?" check before either inserts (hashing takes a while).
    await asyncio.gather(*(ensure_admin(settings, store) for _ in range(3)))
    async with gateway.engine.connect() as conn:
        rows = (await conn.execute(select(accounts).where(accounts.c.username == username))).all()
    assert len(rows) == 1
    assert rows[0].permission & Permission.PROJECT_SUPER_ADMIN
    assert await store.verify_login(username, "replica-password-1") is not None


async def test_accesskeys_are_stored_hashed(gateway: GatewayApp) -> None:
    store = AccountStore(gateway.sessions)
    username = f"keyed-{uuid.uuid4().hex[:8]}"
    await store.create_account(username, "keyed-password-1", Permission.CUSTOMER_ADMIN)
    key = await store.create_accesskey(username, "hash-check")
    async with gateway.engine.connect() as conn:
        row = (
            await conn.execute(
                select(accesskeys).where(accesskeys.c.token_hash == hash_accesskey(key))
            )
        ).one()
    assert key not in {str(v) for v in row}
    assert row.token_hash == hash_accesskey(key)
    assert (await store.account_by_accesskey(key, row.tm_create)) is not None
