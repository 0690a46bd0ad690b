"""The RPC server: consumes a service's request queue and always replies.

Request queues are auto-delete (not durable, unlike VoIPbin's): a request is worth nothing
after its caller's deadline, and when no replica consumes, the queue disappears so the
caller's `mandatory` publish is returned at once (503) instead of waiting for a timeout.
Replicas consume the same queue as competing consumers.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from pydantic import ValidationError

from shared.errors import AppError, ErrorStatus
from shared.metrics import RPC_SERVER_REQUESTS, RPC_SERVER_SECONDS
from shared.rpc.envelope import RpcRequest, RpcResponse
from shared.rpc.router import Reply, Router, RpcContext

log = structlog.get_logger("rpc.server")


def encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


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
        self._channel: AbstractChannel | None = None

    async def start(self) -> None:
        self._channel = await self._connection.channel()
        await self._channel.set_qos(prefetch_count=self._prefetch)
        queue = await self._channel.declare_queue(self.queue_name, durable=False, auto_delete=True)
        await queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        route_label = "unmatched"
        method = "?"
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
                message_id=message.message_id,
                redelivered=bool(message.redelivered),
            )
            result = await route.handler(ctx)
            reply = result if isinstance(result, Reply) else Reply(data=result)
            response = RpcResponse(status_code=reply.status_code, data=reply.data)
        except AppError as err:
            response = RpcResponse(status_code=err.http_status, data=err.to_dict())
            if err.http_status >= 500:
                log.warning("rpc_failed", reason=err.reason, message=err.message)
        except ValidationError as exc:
            bad = AppError(
                ErrorStatus.INVALID_ARGUMENT, "INVALID_ENVELOPE", f"bad RPC envelope: {exc}"
            )
            response = RpcResponse(status_code=400, data=bad.to_dict())
        except Exception:
            # The cause stays in our logs; the caller learns only that it failed.
            log.exception("rpc_handler_crashed")
            crash = AppError(ErrorStatus.INTERNAL, "INTERNAL", "internal error")
            response = RpcResponse(status_code=500, data=crash.to_dict())
        await self._reply(message, response)
        RPC_SERVER_REQUESTS.labels(
            self.queue_name, method, route_label, str(response.status_code)
        ).inc()
        RPC_SERVER_SECONDS.labels(self.queue_name, route_label).observe(
            time.perf_counter() - started
        )

    async def _reply(self, message: AbstractIncomingMessage, response: RpcResponse) -> None:
        assert self._channel is not None
        try:
            if message.reply_to:
                await self._channel.default_exchange.publish(
                    aio_pika.Message(
                        body=response.model_dump_json().encode(),
                        content_type="application/json",
                        correlation_id=message.correlation_id,
                        delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
                    ),
                    routing_key=message.reply_to,
                    mandatory=False,
                )
        except Exception:
            log.exception("rpc_reply_failed")
        finally:
            # Ack after replying: a crash before this point redelivers the request.
            await message.ack()
