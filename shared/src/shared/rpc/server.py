"""The RPC server: consumes a service's request queue and always replies.

Request queues are auto-delete (not durable, unlike VoIPbin's): a request is worth nothing
after its caller's deadline, and when no replica consumes, the queue disappears so the
caller's `mandatory` publish is returned at once (503) instead of waiting for a timeout.
Replicas consume the same queue as competing consumers.

Like the client, the hot path is aiormq's: one task per request; the reply and the ack are
encoded here (shared.rpc.frames) and queued together on the connection's writer without waiting
for a drain; and no publisher confirms on replies (a lost reply is the caller's 504 either
way, and each confirm cost the broker and this process a frame and a future). aio-pika's
robust channel restores the queue and QoS after a reconnect; `_reopened` consumes again on
the new channel.
"""

from __future__ import annotations

import time
from typing import Any, cast

import aiormq
import aiormq.abc
import structlog
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from aiormq.abc import ChannelFrame
from pamqp.commands import Basic
from pydantic import ValidationError

from shared.errors import AppError, ErrorStatus
from shared.metrics import RPC_SERVER_REQUESTS, RPC_SERVER_SECONDS, child
from shared.rpc.envelope import RpcRequest, encode
from shared.rpc.frames import ack_frame, publish_frames
from shared.rpc.router import Reply, Router, RpcContext

log = structlog.get_logger("rpc.server")


class RpcServer:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        queue_name: str,
        router: Router,
        prefetch: int = 64,
    ) -> None:
        self._connection = connection
        self.queue_name = queue_name
        self._router = router
        self._prefetch = prefetch
        self._channel: AbstractRobustChannel | None = None

    async def start(self) -> None:
        channel = self._connection.channel(publisher_confirms=False)
        await channel.initialize()
        self._channel = channel
        await channel.set_qos(prefetch_count=self._prefetch)
        await channel.declare_queue(self.queue_name, durable=False, auto_delete=True)
        channel.reopen_callbacks.add(self._reopened)
        await self._consume()

    async def _consume(self) -> None:
        assert self._channel is not None
        underlay = await self._channel.get_underlay_channel()
        await underlay.basic_consume(self.queue_name, self._on_message)

    async def _reopened(self, *_: Any) -> None:
        try:
            await self._consume()
        except Exception:
            log.warning("rpc_consume_failed", queue=self.queue_name, exc_info=True)

    async def stop(self) -> None:
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    async def _on_message(self, message: aiormq.abc.DeliveredMessage) -> None:
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        route_label = "unmatched"
        method = "?"
        status = 500
        data: Any
        properties = message.header.properties
        try:
            request = RpcRequest.model_validate_json(message.body)
            method = request.method
            structlog.contextvars.bind_contextvars(
                request_id=request.request_id, rpc_method=request.method, rpc_uri=request.uri
            )
            route, params, query = self._router.resolve(request.method, request.uri)
            route_label = route.template
            ctx = RpcContext(
                method=request.method,
                path=request.uri.split("?", 1)[0],
                params=params,
                query=query,
                data=request.data,
                request_id=request.request_id,
                publisher=request.publisher,
                message_id=properties.message_id,
                redelivered=isinstance(message.delivery, Basic.Deliver)
                and bool(message.delivery.redelivered),
            )
            result = await route.handler(ctx)
            reply = result if isinstance(result, Reply) else Reply(data=result)
            status, data = reply.status_code, reply.data
        except AppError as err:
            status, data = err.http_status, err.to_dict()
            if err.http_status >= 500:
                log.warning("rpc_failed", reason=err.reason, message=err.message)
        except ValidationError as exc:
            bad = AppError(
                ErrorStatus.INVALID_ARGUMENT, "INVALID_ENVELOPE", f"bad RPC envelope: {exc}"
            )
            status, data = 400, bad.to_dict()
        except Exception:
            # The cause stays in our logs; the caller learns only that it failed.
            log.exception("rpc_handler_crashed")
            crash = AppError(ErrorStatus.INTERNAL, "INTERNAL", "internal error")
            status, data = 500, crash.to_dict()
        await self._reply(message, status, data)
        child(RPC_SERVER_REQUESTS, self.queue_name, method, route_label, str(status)).inc()
        child(RPC_SERVER_SECONDS, self.queue_name, route_label).observe(
            time.perf_counter() - started
        )

    async def _reply(self, message: aiormq.abc.DeliveredMessage, status: int, data: Any) -> None:
        # The concrete aiormq channel: the reply goes on its connection's write queue.
        channel = cast(aiormq.Channel, message.channel)
        properties = message.header.properties
        frames = b""
        if properties.reply_to:
            try:
                body = encode(
                    {"status_code": status, "data_type": "application/json", "data": data}
                )
                frames = publish_frames(
                    channel.number,
                    properties.reply_to,
                    body,
                    channel.max_content_size,
                    correlation_id=properties.correlation_id,
                )
            except Exception:
                log.exception("rpc_reply_failed")
        # Acked after the reply and in the same write: a crash before it redelivers the request.
        if message.delivery_tag is not None:
            frames += ack_frame(channel.number, message.delivery_tag)
        if not frames or channel.is_closed:
            return  # a closed channel: the broker redelivers the request to another consumer
        # Returns at once unless the writer is that far behind (a bounded queue).
        await channel.write_queue.put(ChannelFrame(payload=frames, should_close=False))
