"""Request parsing shared by the handlers."""

from __future__ import annotations

import uuid

from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcContext


def path_uuid(ctx: RpcContext, name: str = "id") -> str:
    raw = ctx.params[name]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT, "INVALID_ID", f"{name}: {raw!r} is not a UUID"
        ) from None


def new_id(ctx: RpcContext) -> str:
    """The id of a resource this request creates.

    Taken from the broker message id when it is a UUID, so a redelivered create (the
    consumer died before acking) finds its first result instead of creating a twin.
    """
    if ctx.message_id:
        try:
            return str(uuid.UUID(ctx.message_id))
        except ValueError:
            pass
    return str(uuid.uuid4())
