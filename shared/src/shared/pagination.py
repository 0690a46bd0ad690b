"""Keyset pagination as the seeds define it: newest first, token = tm_create of the last item.

Every non-empty page carries a token: the position of its last item. A client follows tokens
until a page comes back empty (`{"result": [], "next_page_token": ""}`), which is what VoIPbin's
clients do; an empty token on a non-empty page would send them back to page one.

The token is the last item's `tm_create` in the seeds' format. Many rows can share one
timestamp, so a bare timestamp cannot say where a page stopped inside such a run; the token
therefore carries the last id too, after a comma. A bare timestamp token (as VoIPbin clients
send) is still accepted and means "older than this instant".
"""

from __future__ import annotations

import re
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

# What a token may be, as the API documents it: "" (the first page), or a UTC timestamp
# (`YYYY-MM-DD HH:MM:SS.ffffff`; `T` and a trailing `Z` accepted, as VoIPbin clients send),
# optionally followed by `,<id>`. The date part admits real calendar dates only (leap days
# included), so the document never promises a token the server would refuse.
_YEAR = r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    rf"|{_LEAP_YEAR}-02-29)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
PAGE_TOKEN_PATTERN = (
    rf"^(?:{_DATE}[ T]{_TIME}Z?"
    r"(?:,[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})?)?$"
)
_PAGE_TOKEN = re.compile(PAGE_TOKEN_PATTERN)
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class PageCursor:
    tm_create: datetime
    id: str | None


def parse_page_size(raw: Any) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    text = str(raw)
    if not _DIGITS.fullmatch(text):
        raise invalid_argument("page_size", "must be an integer between 1 and 100")
    size = int(text)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid_argument("page_size", "must be an integer between 1 and 100")
    return size


def parse_page_token(raw: str | None) -> PageCursor | None:
    if not raw:
        return None
    if not _PAGE_TOKEN.fullmatch(raw):
        raise invalid_argument("page_token", "is not a token this API issued")
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


def keyset_page(
    query: Q,
    table: Table,
    page_size: int,
    cursor: PageCursor | None,
    *,
    time_column: str = "tm_create",
    id_column: str | None = "id",
) -> Q:
    """`query` narrowed to one page after `cursor`, newest first.

    A table without an id tie-breaker (`id_column=None`) pages by time alone: fit only where
    two rows of one listing never share an instant (one provider's probe history)."""
    stamp = table.c[time_column]
    if cursor is not None:
        if cursor.id is not None and id_column is not None:
            query = query.where(tuple_(stamp, table.c[id_column]) < (cursor.tm_create, cursor.id))
        else:
            query = query.where(stamp < cursor.tm_create)
    order = [stamp.desc()] if id_column is None else [stamp.desc(), table.c[id_column].desc()]
    return query.order_by(*order).limit(page_size)


def page_token(last: datetime | None, last_id: str | None = None) -> str:
    """The next_page_token after an item: its position, or "" after an empty page."""
    if last is None:
        return ""
    return make_page_token(last, last_id) if last_id else render(last) or ""


def split_page(
    rows: Sequence[R], page_size: int, *, time_column: str = "tm_create"
) -> tuple[list[R], str]:
    """The page and its next_page_token: the last item's position, "" only when empty."""
    page = list(rows[:page_size])
    if not page:
        return page, ""
    last = page[-1]
    return page, page_token(last[time_column], str(last["id"]) if "id" in last else None)
