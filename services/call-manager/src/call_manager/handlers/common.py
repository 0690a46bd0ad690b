"""Request parsing shared by the handlers."""

from __future__ import annotations

import uuid
from typing import Any

from shared.errors import AppError, ErrorStatus, invalid_argument
from shared.rpc import RpcContext

MAX_IDEMPOTENCY_KEY = 255


def path_uuid(ctx: RpcContext, name: str = "id") -> str:
    raw = ctx.params[name]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT, "INVALID_ID", f"{name}: {raw!r} is not a UUID"
        ) from None


def optional_uuid(value: object, name: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise invalid_argument(name, "must be a UUID") from None


def caller_customer(ctx: RpcContext) -> str | None:
    """`customer_id` in the query limits reads to that customer's resources (the gateway
    sends it for everyone but project super admins); absent means no limit."""
    return optional_uuid(ctx.query.get("customer_id"), "customer_id")


def new_id(ctx: RpcContext) -> str:
    """The id of a resource this request creates, taken from the broker message id when it
    is a UUID, so a redelivered create finds its first result instead of making a twin."""
    if ctx.message_id:
        try:
            return str(uuid.UUID(ctx.message_id))
        except ValueError:
            pass
    return str(uuid.uuid4())


def idempotency_key(value: Any) -> str | None:
    """The optional `idempotency_key` of a create body (the gateway's Idempotency-Key)."""
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or len(value) > MAX_IDEMPOTENCY_KEY
        or not all(33 <= ord(ch) <= 126 for ch in value)
    ):
        raise invalid_argument(
            "idempotency_key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
        )
    return value


def create_customer(data: dict[str, Any]) -> str:
    """The required `customer_id` of a create body (set by the gateway from the caller)."""
    customer_id = optional_uuid(data.get("customer_id"), "customer_id")
    if customer_id is None:
        raise invalid_argument("customer_id", "is required")
    return customer_id
