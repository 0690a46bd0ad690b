"""Connecting to RabbitMQ with a reconnecting (robust) connection."""

from __future__ import annotations

import re

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from shared import frame_batching


def mask_url(url: str) -> str:
    """A URL fit for logs and error messages: the password replaced."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


class BrokerUnavailable(RuntimeError):
    pass


async def connect(url: str, name: str, timeout: float = 10.0) -> AbstractRobustConnection:
    """Connect once, failing clearly when the broker is down; later drops reconnect."""
    frame_batching.install()
    try:
        return await aio_pika.connect_robust(
            url,
            client_properties={"connection_name": name},
            timeout=timeout,
            reconnect_interval=1,
        )
    except Exception as exc:
        raise BrokerUnavailable(
            f"RabbitMQ is unreachable at {mask_url(url)} ({exc.__class__.__name__}: {exc}). "
            "Start it (e.g. `rabbitmq-server -detached`) or set AMQP_URL."
        ) from exc
