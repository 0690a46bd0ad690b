"""The RPC layer's failure modes on a real broker: nobody consuming, a handler too slow,
a request that expires in the queue, and a broker connection that drops and comes back.

Each test uses its own uuid-named queue, and connection drops go through a TcpProxy that
only this test's connections use, so nothing else on the broker is disturbed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustConnection
from shared.broker import connect
from shared.errors import AppError, ErrorStatus
from shared.rpc import Router, RpcClient, RpcContext, RpcServer
from shared.rpc.router import Handler

from tests.support.polling import eventually
from tests.support.tcp_proxy import TcpProxy


class Gate:
    """A handler that answers only once the test opens the gate, counting its calls."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.calls: list[str] = []

    async def handle(self, ctx: RpcContext) -> dict[str, Any]:
        self.calls.append(str(ctx.query.get("n")))
        await self.open.wait()
        return {"n": ctx.query.get("n")}


@asynccontextmanager
async def serving(
    connection: AbstractRobustConnection, path: str, handler: Handler, prefetch: int = 64
) -> AsyncIterator[str]:
    """An RpcServer answering GET `path` on a uuid-named queue of its own; yields the queue."""
    router = Router()
    router.get(path, handler)
    queue = f"test-rpc.{uuid.uuid4().hex}"
    server = RpcServer(connection, queue, router, prefetch=prefetch)
    await server.start()
    try:
        yield queue
    finally:
        await server.stop()


@asynccontextmanager
async def calling(
    connection: AbstractRobustConnection, publisher: str, timeout: float
) -> AsyncIterator[RpcClient]:
    client = RpcClient(connection, publisher, default_timeout=timeout)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


@pytest.fixture
async def gated_server(broker: AbstractRobustConnection) -> AsyncIterator[tuple[str, Gate]]:
    gate = Gate()
    # prefetch 1: a second request waits in the queue while the first is being handled.
    async with serving(broker, "/v1/slow", gate.handle, prefetch=1) as queue:
        yield queue, gate
        gate.open.set()


async def _queued_is(broker: AbstractRobustConnection, queue: str, count: int) -> bool:
    """Whether `queue` holds `count` ready messages (unacknowledged ones are not counted)."""
    channel = await broker.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count == count
    finally:
        await channel.close()


async def _echo(ctx: RpcContext) -> dict[str, Any]:
    return {"echo": ctx.query.get("v"), "request_id": ctx.request_id}


async def test_no_consumer_is_a_fast_503(rpc: RpcClient) -> None:
    started = time.perf_counter()
    with pytest.raises(AppError) as caught:
        await rpc.request(f"test-rpc.nobody.{uuid.uuid4().hex}", "GET", "/v1/x", timeout=5.0)
    elapsed = time.perf_counter() - started
    assert caught.value.status is ErrorStatus.UNAVAILABLE
    assert caught.value.http_status == 503
    assert elapsed < 1.0, f"took {elapsed:.2f} s: the mandatory publish should return at once"


async def test_returned_and_answered_calls_leave_nothing_behind(
    broker: AbstractRobustConnection,
) -> None:
    """Each request is filed in the channel's tables for aiormq's return handling
    (RpcClient._publish); answered, returned and timed-out calls all take theirs out."""
    async with (
        serving(broker, "/v1/echo", _echo) as queue,
        calling(broker, "tests-tables", 5.0) as client,
    ):
        await asyncio.gather(*(client.request(queue, "GET", f"/v1/echo?v={n}") for n in range(50)))
        for _ in range(3):
            with pytest.raises(AppError) as caught:
                await client.request(f"test-rpc.nobody.{uuid.uuid4().hex}", "GET", "/v1/x")
            assert caught.value.http_status == 503
        underlay = client._underlay
        assert underlay is not None
        # A return's callbacks run on the loop's next turns.
        await eventually(
            lambda: _ready(not underlay.confirmations and not underlay.message_id_delivery_tag),
            2.0,
            message=f"tables emptied: {underlay.confirmations} {underlay.message_id_delivery_tag}",
        )


async def test_slow_handler_is_504_and_the_client_keeps_working(
    rpc: RpcClient, gated_server: tuple[str, Gate]
) -> None:
    queue, gate = gated_server
    started = time.perf_counter()
    with pytest.raises(AppError) as caught:
        await rpc.request(queue, "GET", "/v1/slow?n=1", timeout=0.3)
    elapsed = time.perf_counter() - started
    assert caught.value.status is ErrorStatus.DEADLINE_EXCEEDED
    assert caught.value.http_status == 504
    assert 0.3 <= elapsed < 1.5
    # The late reply, once the handler finishes, is dropped; the next call gets its own.
    gate.open.set()
    assert await rpc.request(queue, "GET", "/v1/slow?n=2", timeout=5.0) == {"n": "2"}


async def test_expired_request_is_never_handled(
    rpc: RpcClient, gated_server: tuple[str, Gate], broker: AbstractRobustConnection
) -> None:
    """`expiration` = deadline: a request still queued when its caller gave up is dropped."""
    queue, gate = gated_server
    first = asyncio.create_task(rpc.request(queue, "GET", "/v1/slow?n=first", timeout=5.0))
    await eventually(lambda: _ready(gate.calls == ["first"]), 5.0, message="first call handled")
    # The server holds one message at a time, so this one waits in the queue and expires.
    with pytest.raises(AppError) as caught:
        await rpc.request(queue, "GET", "/v1/slow?n=late", timeout=0.2)
    assert caught.value.status is ErrorStatus.DEADLINE_EXCEEDED
    # The caller's clock starts before the publish and the message's TTL when the broker
    # enqueues it: open the gate only once the broker has dropped it, not a moment early.
    await eventually(lambda: _queued_is(broker, queue, 0), 5.0, message="the late one expired")
    gate.open.set()
    assert await first == {"n": "first"}
    # A later request is served, and the expired one never reached the handler.
    assert await rpc.request(queue, "GET", "/v1/slow?n=after", timeout=5.0) == {"n": "after"}
    assert gate.calls == ["first", "after"]


async def _ready(value: bool) -> bool:
    return value


async def test_request_id_travels_with_the_call(broker: AbstractRobustConnection) -> None:
    async with (
        serving(broker, "/v1/echo", _echo) as queue,
        calling(broker, "tests-rid", 5.0) as client,
    ):
        try:
            from shared.logging import bind_request_id

            rid = bind_request_id("rid-abc-123")
            reply = await client.request(queue, "GET", "/v1/echo?v=1")
            assert reply == {"echo": "1", "request_id": rid}
        finally:
            import structlog

            structlog.contextvars.clear_contextvars()


async def test_calls_sent_in_one_loop_turn_each_get_their_own_reply(
    broker: AbstractRobustConnection,
) -> None:
    """Frames queued in one turn of the loop leave in one socket write (shared.frame_batching):
    500 requests published together, their 500 replies and acks batched on the way back,
    and each caller still gets its own answer, none lost or crossed."""
    async with (
        serving(broker, "/v1/echo", _echo, prefetch=500) as queue,
        calling(broker, "tests-batch", 10.0) as client,
    ):
        replies = await asyncio.gather(
            *(client.request(queue, "GET", f"/v1/echo?v={n}") for n in range(500))
        )
        assert [r["echo"] for r in replies] == [str(n) for n in range(500)]
        # Nothing is left waiting in the queue.
        await eventually(lambda: _queued_is(broker, queue, 0), 5.0, message="queue drained")


async def test_client_survives_a_broker_connection_drop(
    proxy: TcpProxy, broker: AbstractRobustConnection, platform_env: dict[str, Any]
) -> None:
    router = Router()
    router.get("/v1/echo", _echo)
    queue = f"test-rpc.{uuid.uuid4().hex}"
    server = RpcServer(broker, queue, router)  # the server keeps its direct connection
    await server.start()
    connection = await connect(proxy.url(platform_env["AMQP_URL"]), "tests-via-proxy")
    client = RpcClient(connection, "tests-proxy", default_timeout=2.0)
    await client.start()
    try:
        assert (await client.request(queue, "GET", "/v1/echo?v=before"))["echo"] == "before"
        await proxy.sever()
        # While the link is down a call fails at once (503), it does not hang.
        started = time.perf_counter()
        with pytest.raises(AppError) as caught:
            await client.request(queue, "GET", "/v1/echo?v=down", timeout=1.0)
        assert caught.value.status in (ErrorStatus.UNAVAILABLE, ErrorStatus.DEADLINE_EXCEEDED)
        assert time.perf_counter() - started < 1.5
        proxy.restore()

        async def answered() -> dict[str, Any] | None:
            try:
                return dict(await client.request(queue, "GET", "/v1/echo?v=after", timeout=1.0))
            except AppError:
                return None

        reply = await eventually(answered, 20.0, interval=0.2, message="RPC after reconnect")
        assert reply["echo"] == "after"
        # Concurrency still works on the restored channel and reply queue.
        many = await asyncio.gather(
            *(client.request(queue, "GET", f"/v1/echo?v={i}") for i in range(50))
        )
        assert [r["echo"] for r in many] == [str(i) for i in range(50)]
    finally:
        await client.stop()
        await connection.close()
        await server.stop()


async def test_server_survives_a_broker_connection_drop(
    proxy: TcpProxy, rpc: RpcClient, platform_env: dict[str, Any]
) -> None:
    router = Router()
    router.get("/v1/echo", _echo)
    queue = f"test-rpc.{uuid.uuid4().hex}"
    connection = await connect(proxy.url(platform_env["AMQP_URL"]), "tests-server-via-proxy")
    server = RpcServer(connection, queue, router)
    await server.start()
    try:
        assert (await rpc.request(queue, "GET", "/v1/echo?v=1"))["echo"] == "1"
        await proxy.sever()
        # The request queue is auto-delete: with its only consumer gone, callers get 503.
        with pytest.raises(AppError) as caught:
            await rpc.request(queue, "GET", "/v1/echo?v=2", timeout=1.0)
        assert caught.value.status in (ErrorStatus.UNAVAILABLE, ErrorStatus.DEADLINE_EXCEEDED)
        proxy.restore()

        async def answered() -> dict[str, Any] | None:
            try:
                return dict(await rpc.request(queue, "GET", "/v1/echo?v=3", timeout=1.0))
            except AppError:
                return None

        reply = await eventually(answered, 20.0, interval=0.2, message="server re-consumed")
        assert reply["echo"] == "3"
    finally:
        await server.stop()
        await connection.close()


async def test_calls_in_flight_fail_at_once_when_the_broker_connection_drops(
    proxy: TcpProxy, gated_server: tuple[str, Gate], platform_env: dict[str, Any]
) -> None:
    """Their replies would go to a reply queue that died with the connection: 503 now, not
    a 504 after the whole deadline (30 s for carrier setup)."""
    queue, gate = gated_server
    connection = await connect(proxy.url(platform_env["AMQP_URL"]), "tests-in-flight")
    client = RpcClient(connection, "tests-in-flight", default_timeout=30.0)
    await client.start()
    try:
        calls = [
            asyncio.create_task(client.request(queue, "GET", f"/v1/slow?n={i}")) for i in range(3)
        ]
        # prefetch 1: the first is in the handler, the other two wait in the queue.
        await eventually(lambda: _ready(gate.calls == ["0"]), 5.0, message="first call handled")
        started = time.perf_counter()
        await proxy.sever()
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5.0)
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0, f"calls in flight took {elapsed:.2f} s to fail"
        for result in results:
            assert isinstance(result, AppError), result
            assert result.http_status == 503
            assert result.reason == "BROKER_UNAVAILABLE"
        proxy.restore()
        gate.open.set()

        async def answered() -> dict[str, Any] | None:
            try:
                return dict(await client.request(queue, "GET", "/v1/slow?n=after", timeout=1.0))
            except AppError:
                return None

        reply = await eventually(answered, 20.0, interval=0.2, message="RPC after reconnect")
        assert reply == {"n": "after"}
    finally:
        await client.stop()
        await connection.close()


async def test_a_reply_larger_than_a_frame_arrives_whole(
    broker: AbstractRobustConnection, rpc: RpcClient
) -> None:
    """A reply over the connection's frame_max (128 KiB by default) goes out as several body
    frames (shared.rpc.frames) and comes back as one message."""

    async def big(ctx: RpcContext) -> dict[str, Any]:
        return {"blob": "x" * int(ctx.query["size"])}

    async with serving(broker, "/v1/big", big) as queue:
        for size in (0, 131_000, 400_000):
            reply = await rpc.request(queue, "GET", f"/v1/big?size={size}")
            assert reply == {"blob": "x" * size}
