"""structlog JSON logging with a request id carried through HTTP, RPC and events.

`request_id` lives in a contextvar (structlog.contextvars), so every log line of a request
carries it without passing it around; the RPC client and the outbox read it from there to
put it on the wire. A redaction processor removes secrets by key name at any depth.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|api[_-]?key|token|authorization|access[_-]?key|credentials|cookie)",
    re.IGNORECASE,
)
# Values of these shapes are secrets wherever they appear (bearer tokens, JWTs).
_SECRET_VALUE = re.compile(r"(Bearer\s+\S+|eyJ[\w-]+\.[\w-]+\.[\w-]*)")


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else _redact(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v, depth + 1) for v in value]
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    return value


def redact_secrets(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: blank out values whose key names a secret."""
    return {
        k: (REDACTED if _SECRET_KEY.search(k) and k != "event" else _redact(v))
        for k, v in event_dict.items()
    }


def configure_logging(service: str, level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper())
    # Library chatter (aio-pika reconnect loops) goes through the same JSON renderer.
    def add_service(_l: WrappedLogger, _n: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def new_request_id() -> str:
    return str(uuid.uuid4())


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None


def bind_request_id(request_id: str | None) -> str:
    """Bind the given id (or a new one) to this task's context and return it."""
    rid = request_id or new_request_id()
    structlog.contextvars.bind_contextvars(request_id=rid)
    return rid


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
