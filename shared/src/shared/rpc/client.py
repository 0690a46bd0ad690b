"""The RPC client: many calls in flight over one channel, matched by correlation id.

Replies come back on one exclusive queue per client (per process), never one per request.
Each request carries `expiration` = its deadline, so the broker drops a request its caller
has given up on, and is published `mandatory` so a queue nobody consumes answers 503 at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Any

import aio_pika
import aio_pika.exceptions
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from shared.errors import AppError, ErrorStatus
from shared.logging import current_request_id
from shared.metrics import RPC_CLIENT_CALLS, RPC_CLIENT_SECONDS
from shared.rpc.envelope import RpcRequest, RpcResponse

log = structlog.get_logger("rpc.client")


class RpcClient:
    def __init__(
        self, connection: AbstractRobustConnection, publisher: str, default_timeout: float = 3.0
    ) -> None:
        self._connection = connection
        self._publisher = publisher
        self._default_timeout = default_timeout
        self._pending: dict[str, asyncio.Future[RpcResponse]] = {}
        self._channel: AbstractChannel | None = None
        # A fixed name survives reconnects: the robust channel re-declares the same queue.
        self._reply_queue = f"rpc-reply.{publisher}.{uuid.uuid4().hex}"
        # Correlation ids only need to be unique on this client's reply queue: a counter
        # does, without the getrandom() system call of a uuid4 per call.
        self._correlation = itertools.count(1)

    async def start(self) -> None:
        # Publisher confirms stay on although a request needs no broker receipt: aiormq only
        # surfaces a basic.return (the fast 503 of a `mandatory` publish to a queue nobody
        # consumes) for confirmed publishes; without confirms it drops the return and the
        # caller would wait for its whole deadline.
        self._channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        queue = await self._channel.declare_queue(
            self._reply_queue, exclusive=True, auto_delete=True
        )
        await queue.consume(self._on_reply, no_ack=True)

    async def stop(self) -> None:
        for future in self._pending.values():
            future.cancel()
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is None or future.done():
            return  # a reply after its deadline; the caller already answered 504
        try:
            future.set_result(RpcResponse.model_validate_json(message.body))
        except Exception as exc:
            future.set_exception(exc)

    async def call(
        self,
        queue: str,
        method: str,
        uri: str,
        data: Any = None,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        message_id: str | None = None,
    ) -> RpcResponse:
        """Send one request and wait for its reply; transport failures raise AppError."""
        if self._channel is None:
            raise RuntimeError("RpcClient.start() was not awaited")
        deadline = timeout if timeout is not None else self._default_timeout
        correlation_id = str(next(self._correlation))
        request = RpcRequest(
            uri=uri,
            method=method.upper(),
            publisher=self._publisher,
            request_id=request_id or current_request_id(),
            data=data,
        )
        future: asyncio.Future[RpcResponse] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        started = time.perf_counter()
        try:
            async with asyncio.timeout(deadline):
                try:
                    await self._channel.default_exchange.publish(
                        aio_pika.Message(
                            body=request.model_dump_json().encode(),
                            content_type="application/json",
                            correlation_id=correlation_id,
                            message_id=message_id or uuid.uuid4().hex,
                            reply_to=self._reply_queue,
                            expiration=deadline,
                            delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
                        ),
                        routing_key=queue,
                        mandatory=True,
                    )
                except aio_pika.exceptions.PublishError as exc:
                    RPC_CLIENT_CALLS.labels(queue, "unroutable").inc()
                    raise AppError(
                        ErrorStatus.UNAVAILABLE,
                        "SERVICE_UNAVAILABLE",
                        f"no consumer for {queue}",
                    ) from exc
                except (aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
                    RPC_CLIENT_CALLS.labels(queue, "broker_error").inc()
                    raise AppError(
                        ErrorStatus.UNAVAILABLE, "BROKER_UNAVAILABLE", "message broker unavailable"
                    ) from exc
                response = await future
        except TimeoutError as exc:
            RPC_CLIENT_CALLS.labels(queue, "timeout").inc()
            raise AppError(
                ErrorStatus.DEADLINE_EXCEEDED,
                "REQUEST_TIMEOUT",
                f"{queue} did not answer within {deadline:g} s",
            ) from exc
        finally:
            self._pending.pop(correlation_id, None)
        RPC_CLIENT_CALLS.labels(queue, "reply").inc()
        RPC_CLIENT_SECONDS.labels(queue).observe(time.perf_counter() - started)
        return response

    async def request(
        self,
        queue: str,
        method: str,
        uri: str,
        data: Any = None,
        *,
        timeout: float | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Like call(), but an error reply raises the peer's AppError and success returns data."""
        response = await self.call(queue, method, uri, data, timeout=timeout, message_id=message_id)
        if not response.ok:
            raise AppError.from_reply(response.status_code, response.data)
        return response.data
