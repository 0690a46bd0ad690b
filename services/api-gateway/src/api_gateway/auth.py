"""Who is calling: JWT (HS256 only) or access key, resolved to an Identity."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from prometheus_client import Counter
from shared.errors import AppError, ErrorStatus
from shared.timefmt import utcnow
from sqlalchemy import RowMapping

from api_gateway.accounts import AccountStore, Identity
from api_gateway.permissions import Permission

ACCOUNT_READS = Counter(
    "gateway_account_reads_total", "Accounts read from PostgreSQL to authenticate a token"
)


def unauthenticated(reason: str, message: str) -> AppError:
    return AppError(ErrorStatus.UNAUTHENTICATED, reason, message)


@dataclass
class TokenIssuer:
    secret: str
    expiry_seconds: int

    def issue(self, account: RowMapping) -> str:
        now = int(time.time())
        claims = {
            "sub": account["id"],
            "username": account["username"],
            "customer_id": account["customer_id"],
            "permission": account["permission"],
            # A token dies with its generation (password change, deletion) or its jti (logout).
            "gen": account.get("token_generation", 0),
            "jti": secrets.token_hex(16),
            "iat": now,
            "exp": now + self.expiry_seconds,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> dict[str, Any]:
        try:
            # Pinning the algorithm rejects alg=none and key-confusion tricks.
            return jwt.decode(
                token, self.secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise unauthenticated("TOKEN_EXPIRED", "the token has expired") from None
        except jwt.PyJWTError:
            raise unauthenticated("INVALID_TOKEN", "the token is not valid") from None


@dataclass
class Authenticator:
    """Reads credentials from a request; the account is re-read (briefly cached) so a
    deleted account or changed permission takes effect without waiting for token expiry."""

    issuer: TokenIssuer
    store: AccountStore
    cache_seconds: float
    _cache: dict[str, tuple[float, RowMapping | None]] = field(default_factory=dict)
    # Tokens whose signature already verified: token -> (trusted until, wall clock; claims).
    _verified: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    # Account reads under way, by cache key: the requests that miss together share one.
    _reading: dict[str, asyncio.Task[RowMapping | None]] = field(default_factory=dict)
    # Bumped by forget(): a read that began before a revocation does not refill the cache.
    _generation: int = 0

    def token_claims(self, request: web.Request) -> dict[str, Any] | None:
        """The verified claims of the request's token; None when it carries none."""
        token = _bearer(request) or request.query.get("token") or request.cookies.get("token")
        return self._verify(token) if token else None

    async def identify(self, request: web.Request) -> Identity:
        claims = self.token_claims(request)
        if claims is not None:
            account = await self._account(str(claims["sub"]), str(claims.get("jti", "")))
            if account is None:
                raise unauthenticated("INVALID_TOKEN", "the token's account no longer exists")
            if account["revoked"] or claims.get("gen", 0) != account["token_generation"]:
                raise unauthenticated("TOKEN_REVOKED", "the token was revoked; log in again")
            return _identity(account, "token")
        key = request.query.get("accesskey")
        if key:
            found = await self.store.account_by_accesskey(key, utcnow())
            if found is None:
                raise unauthenticated("INVALID_ACCESSKEY", "the access key is not valid")
            return _identity(found, "accesskey")
        raise unauthenticated(
            "AUTHENTICATION_REQUIRED",
            "send a token (?token=, Authorization: Bearer, or cookie) or ?accesskey=",
        )

    def _verify(self, token: str) -> dict[str, Any]:
        """Verify a token, remembering the result briefly: a client sends the same token
        on every request, and checking the signature each time was a tenth of the
        gateway's CPU per request. Only tokens that verified are kept (the same string
        verifies the same way), and never past their own expiry."""
        now = time.time()
        hit = self._verified.get(token)
        if hit is not None and now < hit[0]:
            return hit[1]
        claims = self.issuer.verify(token)
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = (min(now + self.cache_seconds, float(claims["exp"])), claims)
        return claims

    async def _account(self, account_id: str, jti: str) -> RowMapping | None:
        """The account and whether this token was revoked, re-read at most every
        `cache_seconds` (the longest a revocation elsewhere takes to reach this replica)."""
        now = time.monotonic()
        key = f"{account_id}/{jti}"
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        # Single flight: when the entry expires, every request in flight with that token
        # misses at once (32 at a time in the gateway benchmark: ~400 reads in 8 s instead
        # of 2); they share one read. It runs as its own task, so a client that goes away
        # does not cancel it under the others.
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.create_task(self._read(key, account_id, jti))
            reading.add_done_callback(_retrieve)
            self._reading[key] = reading
        return await asyncio.shield(reading)

    async def _read(self, key: str, account_id: str, jti: str) -> RowMapping | None:
        generation, started = self._generation, time.monotonic()
        ACCOUNT_READS.inc()
        try:
            account = await self.store.account_for_token(account_id, jti)
        finally:
            if self._reading.get(key) is asyncio.current_task():
                self._reading.pop(key)
        if generation == self._generation:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (started, account)
        return account

    def forget(self) -> None:
        """Drop what this replica trusts, so a revocation made here applies at once."""
        self._cache.clear()
        self._verified.clear()
        self._reading.clear()
        self._generation += 1


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a shared read's failure as seen: its waiters got it, or all of them left."""
    if not task.cancelled():
        with contextlib.suppress(Exception):
            task.exception()


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _identity(account: RowMapping, via: str) -> Identity:
    return Identity(
        account_id=account["id"],
        customer_id=account["customer_id"],
        username=account["username"],
        permission=Permission(account["permission"]),
        via=via,
    )


def require(identity: Identity, permission: Permission) -> None:
    if not identity.has(permission):
        raise AppError(
            ErrorStatus.PERMISSION_DENIED,
            "PERMISSION_DENIED",
            f"this needs the {permission.name} permission",
        )
