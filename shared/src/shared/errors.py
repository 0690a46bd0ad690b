"""One error type for the whole platform, with one mapping to HTTP status codes.

Services raise `AppError`; the RPC server turns it into an error reply, the RPC client turns
the reply back into an `AppError`, and the gateway renders it. Nothing else crosses a service
boundary, so internals (tracebacks, SQL) never reach a client.
"""

from __future__ import annotations

import contextlib
from enum import StrEnum
from typing import Any


class ErrorStatus(StrEnum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNPROCESSABLE = "UNPROCESSABLE"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    INTERNAL = "INTERNAL"
    BAD_GATEWAY = "BAD_GATEWAY"
    UNAVAILABLE = "UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"


HTTP_STATUS: dict[ErrorStatus, int] = {
    ErrorStatus.INVALID_ARGUMENT: 400,
    ErrorStatus.UNAUTHENTICATED: 401,
    ErrorStatus.PERMISSION_DENIED: 403,
    ErrorStatus.NOT_FOUND: 404,
    ErrorStatus.METHOD_NOT_ALLOWED: 405,
    ErrorStatus.ALREADY_EXISTS: 409,
    ErrorStatus.FAILED_PRECONDITION: 409,
    ErrorStatus.PAYLOAD_TOO_LARGE: 413,
    ErrorStatus.UNPROCESSABLE: 422,
    ErrorStatus.RESOURCE_EXHAUSTED: 429,
    ErrorStatus.INTERNAL: 500,
    ErrorStatus.BAD_GATEWAY: 502,
    ErrorStatus.UNAVAILABLE: 503,
    ErrorStatus.DEADLINE_EXCEEDED: 504,
}

# The reverse mapping, for replies that carry only a code (legacy peers, crashes).
_STATUS_FOR_CODE: dict[int, ErrorStatus] = {}
for _status, _code in HTTP_STATUS.items():
    _STATUS_FOR_CODE.setdefault(_code, _status)


class AppError(Exception):
    """A failure meant for the caller: a closed status, a stable reason, a human message."""

    def __init__(
        self,
        status: ErrorStatus,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.status]

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status.value,
            "reason": self.reason,
            "message": self.message,
        }
        if self.details:
            body["details"] = self.details
        return body

    @classmethod
    def from_reply(cls, status_code: int, data: Any) -> AppError:
        """Rebuild the error a peer replied with; tolerate peers that send only a code."""
        status = _STATUS_FOR_CODE.get(status_code)
        if status is None:
            status = ErrorStatus.INTERNAL if status_code >= 500 else ErrorStatus.INVALID_ARGUMENT
        if isinstance(data, dict):
            with contextlib.suppress(ValueError):
                status = ErrorStatus(data.get("status", status.value))
            details = data.get("details")
            return cls(
                status,
                str(data.get("reason") or status.value),
                str(data.get("message") or status.value.replace("_", " ").lower()),
                details if isinstance(details, dict) else None,
            )
        return cls(status, status.value, status.value.replace("_", " ").lower())

    def __repr__(self) -> str:
        return f"AppError({self.status.value}, {self.reason!r}, {self.message!r})"


def invalid_argument(field: str, message: str, reason: str = "INVALID_ARGUMENT") -> AppError:
    """A 400 that names the offending field, in the message and in details.field."""
    return AppError(ErrorStatus.INVALID_ARGUMENT, reason, f"{field}: {message}", {"field": field})


def not_found(reason: str, message: str) -> AppError:
    return AppError(ErrorStatus.NOT_FOUND, reason, message)
