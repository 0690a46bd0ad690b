"""Request parsing every RPC handler shares: path ids, optional ids, the id of a new resource,
the page asked for.

Errors are the platform's 400s naming the field (shared.errors)."""

from __future__ import annotations

import uuid
from typing import Any

from shared.errors import AppError, ErrorStatus, invalid_argument
from shared.ids import canonical_uuid
from shared.pagination import PageCursor, parse_page_size, parse_page_token
from shared.rpc import RpcContext


def parse_id(raw: str, name: str = "id") -> str:
    """A path id: 400 INVALID_ID unless it is a UUID."""
    try:
        return canonical_uuid(raw)
    except ValueError:
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT, "INVALID_ID", f"{name}: {raw!r} is not a UUID"
        ) from None


def path_uuid(ctx: RpcContext, name: str = "id") -> str:
    return parse_id(ctx.params[name], name)


def optional_uuid(value: Any, name: str) -> str | None:
    """An optional id (query string or body): absent or "" is None, anything else a UUID."""
    if value is None or value == "":
        return None
    try:
        return canonical_uuid(str(value))
    except ValueError:
        raise invalid_argument(name, "must be a UUID") from None


def new_id(ctx: RpcContext) -> str:
    """The id of a resource this request creates.

    Taken from the broker message id when it is a UUID, so a redelivered create (the consumer
    died before acking) finds its first result instead of creating a twin.
    """
    if ctx.message_id:
        try:
            return str(uuid.UUID(ctx.message_id))
        except ValueError:
            pass
    return str(uuid.uuid4())


def page_params(ctx: RpcContext) -> tuple[int, PageCursor | None]:
    """`?page_size=&page_token=`: the checked size, and where the page starts (None: first)."""
    return parse_page_size(ctx.query.get("page_size")), parse_page_token(
        ctx.query.get("page_token")
    )
