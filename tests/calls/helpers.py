"""HTTP helpers for the call tests (bounded waits only)."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.support.polling import eventually


async def post_providercall(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    body: dict[str, Any],
    status: int = 200,
) -> dict[str, Any]:
    async with http.post("/v1.0/providercalls", json=body, headers=headers) as resp:
        data: dict[str, Any] = await resp.json()
        assert resp.status == status, data
        return data


async def get_json(
    http: aiohttp.ClientSession, path: str, headers: dict[str, str], status: int = 200
) -> dict[str, Any]:
    async with http.get(path, headers=headers) as resp:
        data: dict[str, Any] = await resp.json()
        assert resp.status == status, data
        return data


async def wait_call(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    call_id: str,
    status: str,
    timeout: float = 15.0,
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        call = await get_json(http, f"/v1.0/calls/{call_id}", headers)
        return call if call["status"] == status else None

    return await eventually(probe, timeout, message=f"call {call_id} {status}")


async def hangup(
    http: aiohttp.ClientSession, headers: dict[str, str], call_id: str
) -> dict[str, Any]:
    async with http.post(f"/v1.0/calls/{call_id}/hangup", headers=headers) as resp:
        data: dict[str, Any] = await resp.json()
        assert resp.status == 200, data
        return data
