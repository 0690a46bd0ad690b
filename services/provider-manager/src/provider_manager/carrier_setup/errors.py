"""Carrier failures as the platform's errors (what the caller of POST /providers/setup sees).

422: the carrier refused the key (401/403) or refused what we asked (its 422, with its detail
     and pointer passed through: VoIPbin's mapping every 422 to "bad key" hid real causes).
502: the carrier was unreachable, timed out, kept failing after retries, or answered
     something we cannot use; the message says which.
"""

from __future__ import annotations

from typing import Any

from shared.errors import AppError, ErrorStatus

from provider_manager.telnyx import (
    TelnyxError,
    TelnyxKeyRejected,
    TelnyxUnavailable,
    TelnyxValidationError,
)


def not_configured() -> AppError:
    return AppError(
        ErrorStatus.UNAVAILABLE,
        "CARRIER_SETUP_NOT_CONFIGURED",
        "carrier setup is not configured on this platform: TELNYX_SIP_EGRESS_ADDRESSES "
        "(the SBC's ip:port list to register at the carrier) is empty",
    )


def carrier_error(exc: BaseException, step: str, deadline: float) -> AppError:
    """The AppError for a failure at `step` (exc: a TelnyxError or the setup's deadline)."""
    details: dict[str, Any] = {"step": step}
    if isinstance(exc, TelnyxKeyRejected):
        return AppError(
            ErrorStatus.UNPROCESSABLE,
            "CARRIER_KEY_REJECTED",
            f"the carrier rejected the API key (HTTP {exc.status}): it is invalid or lacks "
            "the permissions setup needs",
            details,
        )
    if isinstance(exc, TelnyxValidationError):
        details.update({k: v for k, v in (("pointer", exc.pointer),) if v})
        return AppError(
            ErrorStatus.UNPROCESSABLE,
            "CARRIER_REFUSED",
            f"the carrier refused the request: {exc.detail or exc.title or 'HTTP 422'}",
            details,
        )
    if isinstance(exc, TelnyxUnavailable):
        return AppError(
            ErrorStatus.BAD_GATEWAY,
            "CARRIER_UNAVAILABLE",
            f"the carrier is unreachable or failing: {exc.reason}",
            details,
        )
    if isinstance(exc, TelnyxError):
        return AppError(
            ErrorStatus.BAD_GATEWAY, "CARRIER_ERROR", f"unexpected carrier answer: {exc}", details
        )
    if isinstance(exc, TimeoutError):
        return AppError(
            ErrorStatus.BAD_GATEWAY,
            "CARRIER_TIMEOUT",
            f"the carrier did not complete setup within {deadline:g} s",
            details,
        )
    return AppError(ErrorStatus.INTERNAL, "INTERNAL", "internal error", details)
