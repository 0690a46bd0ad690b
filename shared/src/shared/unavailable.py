"""Telling "the database is down" apart from a bug, so callers get an honest 503.

A handler that hits a dead PostgreSQL raises whatever the driver raised (a refused
connection, a connection closed under it, the pool timing out); left alone, that becomes a
500 INTERNAL, which tells a client its request was wrong or the service is broken. It is
neither: retrying shortly is the right reaction, so it is answered 503 UNAVAILABLE with a
Retry-After.
"""

from __future__ import annotations

import socket

import asyncpg
import structlog
from sqlalchemy import exc as sa_exc

from shared.errors import AppError, ErrorStatus
from shared.rpc.router import Handler, Router, RpcContext

log = structlog.get_logger("unavailable")

# Seconds a client is told to wait; PostgreSQL restarts and failovers take about this long.
DATABASE_RETRY_AFTER = 5

_DRIVER_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # connection failed or vanished
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.InterfaceError,  # "connection is closed"
    ConnectionError,  # refused / reset before asyncpg could wrap it
    socket.gaierror,  # the database host name does not resolve
    sa_exc.TimeoutError,  # no pooled connection came free in time
)


def database_unavailable(error: BaseException) -> bool:
    """True when `error` (or what caused it) says PostgreSQL cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _DRIVER_DOWN):
            return True
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated:
                return True
            orig = current.orig
            if isinstance(orig, BaseException) and database_unavailable(orig):
                return True
        current = current.__cause__ or current.__context__
    return False


def unavailable(what: str = "the database", retry_after: int = DATABASE_RETRY_AFTER) -> AppError:
    return AppError(
        ErrorStatus.UNAVAILABLE,
        "UNAVAILABLE",
        f"{what} is unavailable; retry in a few seconds",
        {"retry_after": retry_after},
    )


def answer_outages(handler: Handler) -> Handler:
    """Wrap an RPC handler: a database outage becomes 503 UNAVAILABLE instead of a crash."""

    async def guarded(ctx: RpcContext) -> object:
        try:
            return await handler(ctx)
        except AppError:
            raise
        except Exception as exc:
            if database_unavailable(exc):
                log.warning("database_unavailable", error=exc.__class__.__name__)
                raise unavailable() from None
            raise

    return guarded


def guard_router(router: Router) -> Router:
    """Wrap every route of a shared.rpc Router with `answer_outages`; returns the router."""
    for route in router.routes:
        route.handler = answer_outages(route.handler)
    return router
