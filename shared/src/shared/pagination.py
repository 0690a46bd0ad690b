"""Keyset pagination as the seeds define it: newest first, token = tm_create of the last item.

The token is the last item's `tm_create` in the seeds' format. Many rows can share one
timestamp, so a bare timestamp cannot say where a page stopped inside such a run; the token
therefore carries the last id too, after a comma. A bare timestamp token (as VoIPbin clients
send) is still accepted and means "older than this instant".
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, Table, tuple_

from shared.errors import invalid_argument
from shared.timefmt import parse, render

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageCursor:
    tm_create: datetime
    id: str | None


def parse_page_size(raw: Any) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(str(raw))
    except ValueError:
        raise invalid_argument("page_size", "must be an integer between 1 and 100") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid_argument("page_size", "must be an integer between 1 and 100")
    return size


def parse_page_token(raw: str | None) -> PageCursor | None:
    if not raw:
        return None
    stamp, _, last_id = raw.partition(",")
    try:
        tm_create = parse(stamp)
        if last_id:
            last_id = str(uuid.UUID(last_id))
    except ValueError:
        raise invalid_argument("page_token", "is not a token this API issued") from None
    return PageCursor(tm_create, last_id or None)


def make_page_token(tm_create: datetime, last_id: str) -> str:
    return f"{render(tm_create)},{last_id}"


Q = TypeVar("Q", bound=Select[Any])
R = TypeVar("R", bound=Mapping[Any, Any])


def keyset_page(query: Q, table: Table, page_size: int, cursor: PageCursor | None) -> Q:
    """`query` narrowed to one page after `cursor`, newest first, plus one row so the caller
    can tell whether more exist (see split_page)."""
    if cursor is not None:
        if cursor.id is not None:
            query = query.where(
                tuple_(table.c.tm_create, table.c.id) < (cursor.tm_create, cursor.id)
            )
        else:
            query = query.where(table.c.tm_create < cursor.tm_create)
    return query.order_by(table.c.tm_create.desc(), table.c.id.desc()).limit(page_size + 1)


def split_page(rows: Sequence[R], page_size: int) -> tuple[list[R], str]:
    """The page and its next_page_token ("" when keyset_page found no extra row)."""
    page = list(rows[:page_size])
    more = len(rows) > page_size
    return page, make_page_token(page[-1]["tm_create"], page[-1]["id"]) if more else ""
