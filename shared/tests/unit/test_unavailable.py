"""Which failures count as "the database is down" (503) rather than a bug (500)."""

from __future__ import annotations

import asyncpg
import pytest
from shared.errors import AppError, ErrorStatus
from shared.rpc import Router, RpcContext
from shared.unavailable import database_unavailable, guard_router
from sqlalchemy import exc as sa_exc


def _wrapped(inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as cause:
            raise RuntimeError("while reading") from cause
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "refused"),
        asyncpg.ConnectionDoesNotExistError("closed in the middle"),
        asyncpg.exceptions.AdminShutdownError("terminating"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        sa_exc.TimeoutError("QueuePool limit"),
        sa_exc.DBAPIError("SELECT 1", None, Exception("x"), connection_invalidated=True),
        _wrapped(ConnectionResetError()),
    ],
)
def test_outages_are_recognised(error: BaseException) -> None:
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        KeyError("x"),
        asyncpg.UniqueViolationError("duplicate"),
        sa_exc.IntegrityError("INSERT", None, Exception("dup")),
    ],
)
def test_bugs_and_conflicts_are_not_outages(error: BaseException) -> None:
    assert not database_unavailable(error)


async def test_guarded_routes_answer_unavailable() -> None:
    async def down(_: RpcContext) -> None:
        raise ConnectionRefusedError(111, "refused")

    async def broken(_: RpcContext) -> None:
        raise ValueError("a bug")

    router = Router()
    router.get("/down", down)
    router.get("/broken", broken)
    guard_router(router)
    ctx = RpcContext("GET", "/down", {}, {}, None, None, "tests")
    with pytest.raises(AppError) as caught:
        await router.resolve("GET", "/down")[0].handler(ctx)
    assert caught.value.status is ErrorStatus.UNAVAILABLE
    assert caught.value.details == {"retry_after": 5}
    with pytest.raises(ValueError):
        await router.resolve("GET", "/broken")[0].handler(ctx)
