"""Request parsing only call-manager's handlers need (the rest is shared.requests)."""

from __future__ import annotations

from typing import Any

from shared.errors import invalid_argument
from shared.requests import optional_uuid
from shared.rpc import RpcContext

MAX_IDEMPOTENCY_KEY = 255


def caller_customer(ctx: RpcContext) -> str | None:
    """`customer_id` in the query limits reads to that customer's resources (the gateway
    sends it for everyone but project super admins); absent means no limit."""
    return optional_uuid(ctx.query.get("customer_id"), "customer_id")


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
