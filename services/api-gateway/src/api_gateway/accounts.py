"""Accounts and access keys in the gateway's own schema (argon2 passwords, hashed keys)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from shared.errors import AppError, ErrorStatus
from shared.timefmt import utcnow
from sqlalchemy import RowMapping, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_gateway.password_pool import PasswordPool
from api_gateway.permissions import Permission
from api_gateway.tables import accesskeys, accounts, revoked_tokens

ACCESSKEY_PREFIX = "vbk_"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Identity:
    account_id: str
    customer_id: str
    username: str
    permission: Permission
    via: str  # "token" or "accesskey"

    def has(self, required: Permission) -> bool:
        return bool(self.permission & required)


def hash_accesskey(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < 8:
        raise ValueError("password must be at least 8 characters")


class AccountStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], hashing: PasswordPool | None = None
    ) -> None:
        self._sessions = sessions
        self.sessions = sessions
        self.hashing = hashing or PasswordPool()

    async def create_account(
        self,
        username: str,
        password: str,
        permission: Permission,
        customer_id: str | None = None,
    ) -> str:
        if not username or len(username) > 255:
            raise ValueError("username must be 1 to 255 characters")
        check_password_rules(password)
        password_hash = await self.hashing.run(_hasher.hash, password)
        account_id = str(uuid.uuid4())
        async with self._sessions() as session, session.begin():
            now = func.statement_timestamp()
            created = (
                await session.execute(
                    insert(accounts)
                    .values(
                        id=account_id,
                        customer_id=customer_id or str(uuid.uuid4()),
                        username=username,
                        password_hash=password_hash,
                        permission=int(permission),
                        tm_create=now,
                        tm_update=now,
                    )
                    .on_conflict_do_nothing(index_elements=[accounts.c.username])
                    .returning(accounts.c.id)
                )
            ).scalar()
        if created is None:
            raise AppError(
                ErrorStatus.ALREADY_EXISTS, "ACCOUNT_EXISTS", f"account {username!r} exists"
            )
        return account_id

    async def account_exists(self, username: str) -> bool:
        async with self._sessions() as session:
            found = await session.execute(
                select(accounts.c.id).where(accounts.c.username == username)
            )
            return found.first() is not None

    async def create_accesskey(
        self, username: str, name: str, expire: timedelta | None = None
    ) -> str:
        """Returns the new key; only its hash is stored, so this is the one time it is seen."""
        key = ACCESSKEY_PREFIX + secrets.token_urlsafe(24)
        async with self._sessions() as session, session.begin():
            account = (
                await session.execute(
                    select(accounts.c.id).where(
                        accounts.c.username == username, accounts.c.tm_delete.is_(None)
                    )
                )
            ).first()
            if account is None:
                raise ValueError(f"no account {username!r}")
            await session.execute(
                accesskeys.insert().values(
                    id=str(uuid.uuid4()),
                    account_id=account.id,
                    name=name,
                    token_hash=hash_accesskey(key),
                    token_prefix=key[:11],
                    tm_expire=(utcnow() + expire) if expire else None,
                    tm_create=func.statement_timestamp(),
                )
            )
        return key

    async def verify_login(self, username: str, password: str) -> RowMapping | None:
        async with self._sessions() as session:
            row = (
                (
                    await session.execute(
                        select(accounts).where(
                            accounts.c.username == username, accounts.c.tm_delete.is_(None)
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            # Spend the same effort as a real check, so timing does not reveal usernames.
            await self.hashing.run(_verify, _DUMMY_HASH, password)
            return None
        return row if await self.hashing.run(_verify, row["password_hash"], password) else None

    async def change_password(self, username: str, password: str) -> RowMapping:
        """Set a new password; every token issued before ends (the generation moves on)."""
        check_password_rules(password)
        password_hash = await self.hashing.run(_hasher.hash, password)
        async with self._sessions() as session, session.begin():
            row = (
                (
                    await session.execute(
                        update(accounts)
                        .where(accounts.c.username == username, accounts.c.tm_delete.is_(None))
                        .values(
                            password_hash=password_hash,
                            token_generation=accounts.c.token_generation + 1,
                            tm_update=func.statement_timestamp(),
                        )
                        .returning(*accounts.c)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise ValueError(f"no account {username!r}")
        return row

    async def delete_account(self, username: str) -> None:
        """Soft-delete an account and its access keys; its tokens end with it."""
        async with self._sessions() as session, session.begin():
            now = func.statement_timestamp()
            account_id = (
                await session.execute(
                    update(accounts)
                    .where(accounts.c.username == username, accounts.c.tm_delete.is_(None))
                    .values(
                        tm_delete=now,
                        tm_update=now,
                        token_generation=accounts.c.token_generation + 1,
                    )
                    .returning(accounts.c.id)
                )
            ).scalar()
            if account_id is None:
                raise ValueError(f"no account {username!r}")
            await session.execute(
                update(accesskeys)
                .where(accesskeys.c.account_id == account_id, accesskeys.c.tm_delete.is_(None))
                .values(tm_delete=now)
            )

    async def revoke_token(self, jti: str, expires: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(revoked_tokens)
                .values(jti=jti, tm_expire=expires)
                .on_conflict_do_nothing(index_elements=[revoked_tokens.c.jti])
            )
            if secrets.randbelow(100) == 0:  # now and then, forget tokens long expired
                await session.execute(
                    revoked_tokens.delete().where(
                        revoked_tokens.c.tm_expire < func.statement_timestamp()
                    )
                )

    async def account_for_token(self, account_id: str, jti: str) -> RowMapping | None:
        """The live account with a `revoked` column: whether this token was logged out."""
        revoked = exists().where(revoked_tokens.c.jti == jti).label("revoked")
        async with self._sessions() as session:
            return (
                (
                    await session.execute(
                        select(accounts, revoked).where(
                            accounts.c.id == account_id, accounts.c.tm_delete.is_(None)
                        )
                    )
                )
                .mappings()
                .first()
            )

    async def account(self, account_id: str) -> RowMapping | None:
        async with self._sessions() as session:
            return (
                (
                    await session.execute(
                        select(accounts).where(
                            accounts.c.id == account_id, accounts.c.tm_delete.is_(None)
                        )
                    )
                )
                .mappings()
                .first()
            )

    async def account_by_accesskey(self, key: str, now: datetime) -> RowMapping | None:
        async with self._sessions() as session:
            return (
                (
                    await session.execute(
                        select(accounts)
                        .join(accesskeys, accesskeys.c.account_id == accounts.c.id)
                        .where(
                            accesskeys.c.token_hash == hash_accesskey(key),
                            accesskeys.c.tm_delete.is_(None),
                            (accesskeys.c.tm_expire.is_(None)) | (accesskeys.c.tm_expire > now),
                            accounts.c.tm_delete.is_(None),
                        )
                    )
                )
                .mappings()
                .first()
            )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
