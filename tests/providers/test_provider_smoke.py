from __future__ import annotations

import aiohttp


async def test_admin_creates_and_reads_a_provider(
    http: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> None:
    body = {"type": "sip", "hostname": "sip.example.com", "name": "smoke"}
    async with http.post("/v1.0/providers", json=body, headers=admin_headers) as resp:
        assert resp.status == 200
        created = await resp.json()
    async with http.get(f"/v1.0/providers/{created['id']}", headers=admin_headers) as resp:
        assert resp.status == 200
        assert (await resp.json())["hostname"] == "sip.example.com"
