"""Keyset pagination through the gateway: no gaps, no repeats, stable inside a run of rows
that share one tm_create."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from provider_manager.app import ProviderManagerApp
from provider_manager.tables import providers
from sqlalchemy import insert, text

from tests.support.providers import assert_provider_shape, provider_body

Headers = dict[str, str]


async def _create_many(
    http: aiohttp.ClientSession, headers: Headers, count: int, tag: str
) -> list[dict[str, Any]]:
    limit = asyncio.Semaphore(32)

    async def one(i: int) -> dict[str, Any]:
        async with (
            limit,
            http.post(
                "/v1.0/providers", json=provider_body(name=f"{tag}-{i}"), headers=headers
            ) as resp,
        ):
            assert resp.status == 200, await resp.text()
            return dict(await resp.json())

    return await asyncio.gather(*(one(i) for i in range(count)))


async def _walk(http: aiohttp.ClientSession, headers: Headers, size: int) -> list[dict[str, Any]]:
    """Every page, following tokens until a page comes back empty (as VoIPbin clients do)."""
    items: list[dict[str, Any]] = []
    token = ""
    for _ in range(10_000):
        async with http.get(
            "/v1.0/providers", params={"page_size": str(size), "page_token": token}, headers=headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            page = await resp.json()
        assert set(page) == {"result", "next_page_token"}
        if not page["result"]:
            assert page == {"result": [], "next_page_token": ""}
            return items
        assert len(page["result"]) <= size
        items += page["result"]
        token = page["next_page_token"]
        # Every non-empty page carries its last item's tm_create (plus its id, for ties).
        assert token.startswith(page["result"][-1]["tm_create"])
    raise AssertionError("pagination did not end")


async def _active_ids(app: ProviderManagerApp) -> list[str]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id::text FROM provider_manager.providers WHERE tm_delete IS NULL"
                " ORDER BY tm_create DESC, id DESC"
            )
        )
        return [row[0] for row in rows]


def _check_walk(items: list[dict[str, Any]], expected: list[str]) -> None:
    ids = [p["id"] for p in items]
    assert len(ids) == len(set(ids)), "a provider was listed twice"
    assert ids == expected, "pages differ from the table's active rows in order"
    keys = [(p["tm_create"], p["id"]) for p in items]
    assert keys == sorted(keys, reverse=True)


async def test_pagination_over_250_providers(
    http: aiohttp.ClientSession, admin_headers: Headers, provider_manager: ProviderManagerApp
) -> None:
    created = await _create_many(http, admin_headers, 250, f"page-{uuid.uuid4().hex[:6]}")
    mine = {p["id"] for p in created}
    assert len(mine) == 250
    expected = await _active_ids(provider_manager)
    for size in (1, 7, 50, 100):
        items = await _walk(http, admin_headers, size)
        _check_walk(items, expected)
        assert mine <= {p["id"] for p in items}
    for item in items:
        assert_provider_shape(item)

    # Without page_size a page holds 100.
    async with http.get("/v1.0/providers", headers=admin_headers) as resp:
        first = await resp.json()
    assert len(first["result"]) == 100
    assert [p["id"] for p in first["result"]] == expected[:100]


async def test_page_token_is_stable_when_many_share_a_timestamp(
    http: aiohttp.ClientSession, admin_headers: Headers, provider_manager: ProviderManagerApp
) -> None:
    # 45 rows with one identical tm_create, written straight into the table; a page boundary
    # falls inside the run for every page size below.
    stamp = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "type": "sip",
            "hostname": f"same-{i}.example.com",
            "name": f"same-{i}",
            "tm_create": stamp,
            "tm_update": stamp,
        }
        for i in range(45)
    ]
    async with provider_manager.engine.begin() as conn:
        await conn.execute(insert(providers), rows)
    expected = await _active_ids(provider_manager)
    same = {r["id"] for r in rows}
    for size in (2, 7, 10, 44, 100):
        items = await _walk(http, admin_headers, size)
        _check_walk(items, expected)
        run = [p for p in items if p["id"] in same]
        assert len(run) == 45
        assert {p["tm_create"] for p in run} == {"2001-02-03 04:05:06.789012"}


async def test_a_deleted_provider_leaves_no_gap(
    http: aiohttp.ClientSession, admin_headers: Headers, provider_manager: ProviderManagerApp
) -> None:
    """Deleting the item a token points at does not break the next page."""
    await _create_many(http, admin_headers, 5, "gap")
    async with http.get("/v1.0/providers?page_size=3", headers=admin_headers) as resp:
        page = await resp.json()
    last = page["result"][-1]["id"]
    async with http.delete(f"/v1.0/providers/{last}", headers=admin_headers) as resp:
        assert resp.status == 200
    async with http.get(
        "/v1.0/providers",
        params={"page_size": "3", "page_token": page["next_page_token"]},
        headers=admin_headers,
    ) as resp:
        following = await resp.json()
    expected = await _active_ids(provider_manager)
    assert [p["id"] for p in following["result"]] == expected[2:5]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=-1", "page_size"),
        ("page_size=1.5", "page_size"),
        ("page_token=yesterday", "page_token"),
        ("page_token=2024-01-01%2000:00:00.000000,not-a-uuid", "page_token"),
    ],
)
async def test_bad_paging_is_400(
    http: aiohttp.ClientSession, admin_headers: Headers, query: str, field: str
) -> None:
    async with http.get(f"/v1.0/providers?{query}", headers=admin_headers) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"] == {"field": field}
    assert field in error["message"]


async def test_bare_timestamp_token_is_accepted(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    """VoIPbin clients send the last item's tm_create alone; that means 'older than this'."""
    async with http.get("/v1.0/providers?page_size=2", headers=admin_headers) as resp:
        page = await resp.json()
    stamp = page["result"][-1]["tm_create"]
    async with http.get(
        "/v1.0/providers", params={"page_size": "5", "page_token": stamp}, headers=admin_headers
    ) as resp:
        assert resp.status == 200
        older = await resp.json()
    assert all(p["tm_create"] < stamp for p in older["result"])
