"""Request id, access log and metrics, and the one error envelope."""

from __future__ import annotations

import re
import time

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import Counter, Histogram
from shared.errors import AppError, ErrorStatus
from shared.logging import bind_request_id, current_request_id
from shared.metrics import child
from shared.unavailable import database_unavailable, unavailable

log = structlog.get_logger("gateway.http")

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "http_request_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_HTTP_STATUS_FOR: dict[int, tuple[ErrorStatus, str]] = {
    400: (ErrorStatus.INVALID_ARGUMENT, "BAD_REQUEST"),
    404: (ErrorStatus.NOT_FOUND, "ROUTE_NOT_FOUND"),
    405: (ErrorStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
    413: (ErrorStatus.PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE"),
}


# When to come back, for answers that ask the client to wait (details.retry_after wins).
_DEFAULT_RETRY_AFTER = {429: 1, 503: 5}


def error_response(err: AppError) -> web.Response:
    body = {"error": {**err.to_dict(), "request_id": current_request_id()}}
    response = web.json_response(body, status=err.http_status)
    default = _DEFAULT_RETRY_AFTER.get(err.http_status)
    if default is not None:
        wanted = (err.details or {}).get("retry_after")
        seconds = wanted if isinstance(wanted, int) and wanted > 0 else default
        response.headers["Retry-After"] = str(seconds)
    return response


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    structlog.contextvars.clear_contextvars()
    offered = request.headers.get("X-Request-ID", "")
    request_id = bind_request_id(offered if _SAFE_REQUEST_ID.match(offered) else None)
    started = time.perf_counter()
    route = request.match_info.route.resource
    route_label = route.canonical if route is not None else "unmatched"
    response: web.StreamResponse
    try:
        response = await handler(request)
    except AppError as err:
        response = error_response(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status, reason = _HTTP_STATUS_FOR.get(
            exc.status, (ErrorStatus.INVALID_ARGUMENT, "BAD_REQUEST")
        )
        response = error_response(AppError(status, reason, exc.reason or reason.lower()))
        if "Allow" in exc.headers:  # a 405 says which methods the path takes (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
    except Exception as exc:
        if database_unavailable(exc):
            log.warning("database_unavailable", path=request.path, error=type(exc).__name__)
            response = error_response(unavailable())
        else:
            log.exception("http_handler_crashed", path=request.path)
            response = error_response(AppError(ErrorStatus.INTERNAL, "INTERNAL", "internal error"))
    response.headers["X-Request-ID"] = request_id
    elapsed = time.perf_counter() - started
    child(HTTP_REQUESTS, request.method, route_label, str(response.status)).inc()
    child(HTTP_SECONDS, route_label).observe(elapsed)
    # The path only: query strings can carry tokens and access keys.
    log.info(
        "http_request",
        method=request.method,
        path=request.path,
        status=response.status,
        ms=round(elapsed * 1000, 2),
    )
    return response
