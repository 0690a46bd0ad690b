"""Request parsing shared by the handlers."""

from __future__ import annotations

import uuid

from shared.errors import AppError, ErrorStatus, invalid_argument
from shared.rpc import RpcContext


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
