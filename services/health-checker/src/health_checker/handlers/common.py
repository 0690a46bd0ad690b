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
