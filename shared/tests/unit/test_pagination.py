"""Page sizes and page tokens: strict parsing, and tokens that round-trip exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from shared.errors import AppError
from shared.pagination import (
    DEFAULT_PAGE_SIZE,
    PageCursor,
    make_page_token,
    page_token,
    parse_page_size,
    parse_page_token,
    split_page,
)
from shared.timefmt import NEVER, parse, render, render_or_never


@pytest.mark.parametrize(("raw", "size"), [(None, 100), ("1", 1), ("100", 100), (7, 7)])
def test_page_size_accepted(raw: Any, size: int) -> None:
    assert parse_page_size(raw) == size
    assert DEFAULT_PAGE_SIZE == 100


@pytest.mark.parametrize(
    "raw", ["", "0", "101", "-1", "abc", "1.5", "1e2", " ", " 5", "0x10", 0, 101]
)
def test_page_size_refused(raw: Any) -> None:
    with pytest.raises(AppError) as caught:
        parse_page_size(raw)
    assert caught.value.http_status == 400
    assert caught.value.details == {"field": "page_size"}


def test_page_token_round_trip() -> None:
    stamp = datetime(2022, 10, 22, 16, 16, 16, 874761, tzinfo=UTC)
    last = str(uuid.uuid4())
    token = make_page_token(stamp, last)
    assert token == f"2022-10-22 16:16:16.874761,{last}"
    assert parse_page_token(token) == PageCursor(stamp, last)


def test_bare_timestamp_token_from_voipbin_clients() -> None:
    cursor = parse_page_token("2022-10-22 16:16:16.874761")
    assert cursor == PageCursor(datetime(2022, 10, 22, 16, 16, 16, 874761, tzinfo=UTC), None)
    iso = parse_page_token("2022-10-22T16:16:16.874761Z")
    assert iso is not None and iso.tm_create == cursor.tm_create


def test_token_keeps_microseconds_of_other_zones() -> None:
    stamp = datetime(2024, 1, 1, 9, 0, 0, 1, tzinfo=timezone(timedelta(hours=9)))
    cursor = parse_page_token(make_page_token(stamp, str(uuid.uuid4())))
    assert cursor is not None and cursor.tm_create == stamp


@pytest.mark.parametrize("raw", [None, ""])
def test_no_token(raw: str | None) -> None:
    assert parse_page_token(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "yesterday",
        "2022-13-01 00:00:00.000000",
        "2022-10-22 16:16:16.874761,not-a-uuid",
        "abc,def",
        "9999-99-99",
        ",0b2c6c53-6c39-4d8f-9d5f-3a0b1c9e8f11",
    ],
)
def test_bad_tokens(raw: str) -> None:
    with pytest.raises(AppError) as caught:
        parse_page_token(raw)
    assert caught.value.http_status == 400
    assert caught.value.details == {"field": "page_token"}


def test_timestamp_rendering() -> None:
    stamp = datetime(2022, 10, 22, 16, 16, 16, 874761, tzinfo=UTC)
    assert render(stamp) == "2022-10-22 16:16:16.874761"
    assert render(datetime(2022, 1, 1, tzinfo=UTC)) == "2022-01-01 00:00:00.000000"
    shifted = stamp.astimezone(timezone(timedelta(hours=-5)))
    assert render(shifted) == "2022-10-22 16:16:16.874761"  # always UTC
    assert render(None) is None
    assert render_or_never(None) == NEVER == "9999-01-01 00:00:00.000000"
    assert parse(render(stamp) or "") == stamp


def test_every_non_empty_page_carries_its_last_position() -> None:
    stamp = datetime(2022, 10, 22, 16, 16, 16, 874761, tzinfo=UTC)
    rows: list[dict[str, Any]] = [{"id": str(uuid.uuid4()), "tm_create": stamp} for _ in range(3)]
    page, token = split_page(rows, 3)
    assert page == rows
    assert token == make_page_token(stamp, rows[-1]["id"])
    # A short page (the last one) too: only the empty page after it says "".
    assert split_page(rows[:1], 3)[1] == make_page_token(stamp, rows[0]["id"])
    assert split_page([], 3) == ([], "")


def test_a_listing_without_ids_gets_a_bare_timestamp_token() -> None:
    stamp = datetime(2022, 10, 22, 16, 16, 16, 874761, tzinfo=UTC)
    assert page_token(stamp) == "2022-10-22 16:16:16.874761"
    assert page_token(None) == ""
    _, token = split_page([{"checked_at": stamp}], 5, time_column="checked_at")
    assert token == "2022-10-22 16:16:16.874761"
    assert parse_page_token(token) == PageCursor(stamp, None)
