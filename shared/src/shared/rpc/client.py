"""The RPC client: many calls in flight over one channel, matched by correlation id.

Replies come back on one exclusive queue per client (per process), never one per request.
Each request carries `expiration` = its deadline, so the broker drops a request its caller
has given up on, and is published `mandatory` so a queue nobody consumes answers 503 at once.

The hot path talks to aiormq directly (one channel, one dict of pending futures): aio-pika's
Message/IncomingMessage objects and its second task per delivery were a fifth of the
gateway's CPU per request. A request's frames are encoded by shared.rpc.frames and queued
by `_publish`, without publisher confirms: a return is still seen (see `_publish`).
aio-pika's robust channel still owns reconnection: it re-declares the reply queue, and
`_reopened` consumes it again on the new underlying channel. Calls in flight when the
channel goes down fail at once with 503 instead of waiting for their deadline (their
replies would go to a reply queue that no longer exists).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
import uuid
from typing import Any, cast

import aiormq
import aiormq.exceptions
import structlog
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from aiormq.abc import ChannelFrame, DeliveredMessage

from shared.errors import AppError, ErrorStatus
from shared.ids import random_uuid_hex
from shared.logging import current_request_id
from shared.metrics import RPC_CLIENT_CALLS, RPC_CLIENT_SECONDS, child
from shared.rpc.envelope import RpcResponse, encode
from shared.rpc.frames import publish_frames

log = structlog.get_logger("rpc.client")


class _Unroutable(Exception):
    """The broker returned the request: no queue by that name, so nobody consumes it."""


def _broker_unavailable() -> AppError:
    return AppError(ErrorStatus.UNAVAILABLE, "BROKER_UNAVAILABLE", "message broker unavailable")


class RpcClient:
    def __init__(
        self, connection: AbstractRobustConnection, publisher: str, default_timeout: float = 3.0
    ) -> None:
        self._connection = connection
        self._publisher = publisher
        self._default_timeout = default_timeout
        self._pending: dict[str, asyncio.Future[RpcResponse]] = {}
        self._channel: AbstractRobustChannel | None = None
        # The concrete aiormq channel: its publish can skip waiting for a drain.
        self._underlay: aiormq.Channel | None = None
        # A fixed name survives reconnects: the robust channel re-declares the same queue.
        self._reply_queue = f"rpc-reply.{publisher}.{uuid.uuid4().hex}"
        # Correlation ids only need to be unique on this client's reply queue: a counter
        # does, without the getrandom() system call of a uuid4 per call.
        self._correlation = itertools.count(1)
        # Keys under which `_publish` files each request for aiormq's return handling.
        self._tags = itertools.count(1)

    async def start(self) -> None:
        # No publisher confirms: a request needs no broker receipt, and each confirm was a
        # frame for the broker to send and this process to read per call. What confirms
        # were kept for, the fast 503 of a `mandatory` publish to a queue nobody consumes,
        # comes from the basic.return alone: aiormq finds the returned message by its
        # message id in the channel's tables, which `_publish` fills in.
        channel = self._connection.channel(publisher_confirms=False)
        await channel.initialize()
        self._channel = channel
        await channel.declare_queue(self._reply_queue, exclusive=True, auto_delete=True)
        channel.close_callbacks.add(self._channel_lost)
        channel.reopen_callbacks.add(self._reopened)
        await self._consume()

    async def _consume(self) -> None:
        assert self._channel is not None
        underlay = cast(aiormq.Channel, await self._channel.get_underlay_channel())
        await underlay.basic_consume(self._reply_queue, self._on_reply, no_ack=True)
        self._underlay = underlay

    async def _reopened(self, *_: Any) -> None:
        try:
            await self._consume()
        except Exception:
            # The next drop or restore tries again; until then calls answer 503.
            log.warning("rpc_reply_consume_failed", exc_info=True)

    def _channel_lost(self, *_: Any) -> None:
        self._underlay = None
        self.fail_pending()

    def fail_pending(self) -> None:
        """Answer every call in flight with 503 now: their replies cannot arrive."""
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(_broker_unavailable())
        if pending:
            log.warning("rpc_calls_failed_on_broker_loss", calls=len(pending))

    async def stop(self) -> None:
        for future in self._pending.values():
            future.cancel()
        if self._channel is not None and not self._channel.is_closed:
            self._channel.close_callbacks.discard(self._channel_lost)
            await self._channel.close()

    async def _on_reply(self, message: DeliveredMessage) -> None:
        future = self._pending.pop(message.header.properties.correlation_id or "", None)
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
        underlay = self._underlay
        if underlay is None or underlay.is_closed or not self._connection.connected.is_set():
            child(RPC_CLIENT_CALLS, queue, "broker_error").inc()
            raise _broker_unavailable()
        correlation_id = str(next(self._correlation))
        body = encode(
            {
                "uri": uri,
                "method": method.upper(),
                "publisher": self._publisher,
                "request_id": request_id or current_request_id(),
                "data_type": "application/json",
                "data": data,
            }
        )
        message_id = message_id or random_uuid_hex()
        frames = publish_frames(
            underlay.number,
            queue,
            body,
            underlay.max_content_size,
            correlation_id=correlation_id,
            reply_to=self._reply_queue,
            expiration=str(int(deadline * 1000)),
            message_id=message_id,
            mandatory=True,
        )
        future: asyncio.Future[RpcResponse] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        started = time.perf_counter()
        tag: int | None = None
        try:
            async with asyncio.timeout(deadline):
                try:
                    tag = await self._publish(underlay, frames, message_id, future)
                except (aiormq.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
                    child(RPC_CLIENT_CALLS, queue, "broker_error").inc()
                    raise _broker_unavailable() from exc
                try:
                    response = await future
                except _Unroutable as exc:
                    child(RPC_CLIENT_CALLS, queue, "unroutable").inc()
                    raise AppError(
                        ErrorStatus.UNAVAILABLE,
                        "SERVICE_UNAVAILABLE",
                        f"no consumer for {queue}",
                    ) from exc
                except AppError:
                    child(RPC_CLIENT_CALLS, queue, "broker_lost").inc()
                    raise
        except TimeoutError as exc:
            child(RPC_CLIENT_CALLS, queue, "timeout").inc()
            raise AppError(
                ErrorStatus.DEADLINE_EXCEEDED,
                "REQUEST_TIMEOUT",
                f"{queue} did not answer within {deadline:g} s",
            ) from exc
        finally:
            self._pending.pop(correlation_id, None)
            if tag is not None:
                self._forget(underlay, tag, message_id)
        child(RPC_CLIENT_CALLS, queue, "reply").inc()
        child(RPC_CLIENT_SECONDS, queue).observe(time.perf_counter() - started)
        return response

    async def _publish(
        self,
        underlay: aiormq.Channel,
        frames: bytes,
        message_id: str,
        reply: asyncio.Future[RpcResponse],
    ) -> int:
        """Queue a request's frames; return the key that `_forget` needs once it is answered.

        A basic.return (no queue by that name) fails `reply` with _Unroutable: aiormq handles
        a return by looking the message id up in `message_id_delivery_tag`, then completing
        the future it finds in `confirmations` under that key with the returned message. On
        a channel without confirms the key is only ours (the broker numbers nothing), so a
        counter does.
        """
        tag = next(self._tags)
        returned: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        returned.add_done_callback(functools.partial(self._returned, underlay, tag, reply))
        underlay.confirmations[tag] = returned
        underlay.message_id_delivery_tag[message_id] = tag
        try:
            # Returns at once unless the writer is that far behind (a bounded queue).
            await underlay.write_queue.put(ChannelFrame(payload=frames, should_close=False))
        except BaseException:  # cancelled while waiting for room: never sent
            self._forget(underlay, tag, message_id)
            raise
        return tag

    @staticmethod
    def _returned(
        underlay: aiormq.Channel,
        tag: int,
        reply: asyncio.Future[RpcResponse],
        returned: asyncio.Future[object],
    ) -> None:
        # aiormq leaves a marker under the key for a confirm that never comes here.
        underlay.confirmations.pop(tag, None)
        if not returned.cancelled() and not reply.done():
            reply.set_exception(_Unroutable())

    @staticmethod
    def _forget(underlay: aiormq.Channel, tag: int, message_id: str) -> None:
        returned = underlay.confirmations.pop(tag, None)
        if isinstance(returned, asyncio.Future):
            returned.cancel()
        if underlay.message_id_delivery_tag.get(message_id) == tag:
            del underlay.message_id_delivery_tag[message_id]

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
