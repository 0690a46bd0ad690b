"""AppError: one closed status set, one HTTP mapping, and a faithful round trip over RPC."""

from __future__ import annotations

from typing import Any

import pytest
from shared.errors import HTTP_STATUS, AppError, ErrorStatus, invalid_argument, not_found

EXPECTED = {
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


def test_every_status_has_its_http_code() -> None:
    assert set(HTTP_STATUS) == set(ErrorStatus)
    for status, code in EXPECTED.items():
        assert AppError(status, "R", "m").http_status == code


def test_to_dict_omits_empty_details() -> None:
    err = AppError(ErrorStatus.NOT_FOUND, "PROVIDER_NOT_FOUND", "gone")
    assert err.to_dict() == {
        "status": "NOT_FOUND",
        "reason": "PROVIDER_NOT_FOUND",
        "message": "gone",
    }
    with_details = AppError(ErrorStatus.INVALID_ARGUMENT, "X", "m", {"field": "name"})
    assert with_details.to_dict()["details"] == {"field": "name"}


@pytest.mark.parametrize("status", list(ErrorStatus))
def test_round_trip_through_a_reply(status: ErrorStatus) -> None:
    err = AppError(status, "SOME_REASON", "some message", {"field": "x"})
    back = AppError.from_reply(err.http_status, err.to_dict())
    assert (back.status, back.reason, back.message, back.details) == (
        status,
        "SOME_REASON",
        "some message",
        {"field": "x"},
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (400, ErrorStatus.INVALID_ARGUMENT),
        (401, ErrorStatus.UNAUTHENTICATED),
        (404, ErrorStatus.NOT_FOUND),
        (409, ErrorStatus.ALREADY_EXISTS),
        (503, ErrorStatus.UNAVAILABLE),
        (504, ErrorStatus.DEADLINE_EXCEEDED),
        (418, ErrorStatus.INVALID_ARGUMENT),  # unknown 4xx
        (599, ErrorStatus.INTERNAL),  # unknown 5xx
    ],
)
def test_from_reply_with_only_a_code(code: int, status: ErrorStatus) -> None:
    payloads: tuple[Any, ...] = (None, "text", [1], {})
    for data in payloads:
        err = AppError.from_reply(code, data)
        assert err.status is status
        assert err.reason
        assert err.message


@pytest.mark.parametrize(
    "data",
    [
        {"status": "NOT_A_STATUS", "reason": "R", "message": "m"},
        {"status": None},
        {"reason": 5, "message": 6, "details": "not a dict"},
    ],
)
def test_from_reply_tolerates_odd_peers(data: dict[str, Any]) -> None:
    err = AppError.from_reply(404, data)
    assert err.status is ErrorStatus.NOT_FOUND
    assert isinstance(err.reason, str)
    assert isinstance(err.message, str)
    assert err.details is None


def test_helpers() -> None:
    err = invalid_argument("hostname", "must not be empty")
    assert err.http_status == 400
    assert err.message == "hostname: must not be empty"
    assert err.details == {"field": "hostname"}
    missing = not_found("PROVIDER_NOT_FOUND", "no such provider")
    assert missing.http_status == 404
    assert "NOT_FOUND" in repr(missing)
