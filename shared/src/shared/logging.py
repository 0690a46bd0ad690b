"""structlog JSON logging with a request id carried through HTTP, RPC and events.

`request_id` lives in a contextvar (structlog.contextvars), so every log line of a request
carries it without passing it around; the RPC client and the outbox read it from there to
put it on the wire. A redaction processor removes secrets by key name at any depth.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

from shared.ids import random_uuid

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"(pass(word)?|pwd|secret|api[_-]?key|token|authorization|access[_-]?key|credentials"
    r"|cookie|private[_-]?key)",
    re.IGNORECASE,
)
# Values of these shapes are secrets wherever they appear (bearer tokens, JWTs, our access
# keys), including inside free text such as exception messages.
_SECRET_VALUE = re.compile(r"(Bearer\s+\S+|eyJ[\w-]+\.[\w-]+\.[\w-]*|vbk_[\w-]+)")
# Secrets inside URLs: `?token=...`/`&accesskey=...` and the password of `scheme://user:pw@`.
_SECRET_QUERY = re.compile(
    r"((?:token|accesskey|access_key|api_?key|password|secret)=)[^&\s\"']+", re.IGNORECASE
)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@/\s]+@")


def _redact_text(value: str) -> str:
    value = _SECRET_VALUE.sub(REDACTED, value)
    value = _SECRET_QUERY.sub(rf"\1{REDACTED}", value)
    return _URL_PASSWORD.sub(rf"\1{REDACTED}@", value)


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
        return _redact_text(value)
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
        # Tracebacks become text before redaction, so an exception message that quotes a
        # token or a URL with a password is redacted too (and stdlib records get a traceback,
        # not a repr of the exc_info tuple).
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    structlog.configure(
        processors=[
            *shared,
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
    return random_uuid()


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
