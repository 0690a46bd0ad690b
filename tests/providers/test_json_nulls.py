"""JSON null for a text field, read as VoIPbin reads it: "" on create, "keep" on update."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.support.providers import provider_body

Headers = dict[str, str]


async def _send(
    http: aiohttp.ClientSession, method: str, path: str, headers: Headers, body: Any = None
) -> Any:
    async with http.request(method, path, json=body, headers=headers) as resp:
        payload = await resp.json()
        assert resp.status == 200, payload
        return payload


async def test_provider_nulls(http: aiohttp.ClientSession, admin_headers: Headers) -> None:
    nulls = dict.fromkeys(("name", "detail", "tech_prefix", "tech_postfix", "tech_headers"))
    created = await _send(http, "POST", "/v1.0/providers", admin_headers, provider_body(**nulls))
    assert {k: created[k] for k in nulls} == {
        "name": "",
        "detail": "",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
    }
    path = f"/v1.0/providers/{created['id']}"
    named = await _send(
        http, "PUT", path, admin_headers, {"name": "n", "detail": "d", "tech_prefix": "9"}
    )
    kept = await _send(http, "PUT", path, admin_headers, {**nulls, "hostname": None})
    assert {k: kept[k] for k in (*nulls, "hostname")} == {k: named[k] for k in (*nulls, "hostname")}
    assert (kept["name"], kept["detail"], kept["tech_prefix"]) == ("n", "d", "9")


async def test_route_nulls(http: aiohttp.ClientSession, admin_headers: Headers) -> None:
    provider = await _send(http, "POST", "/v1.0/providers", admin_headers, provider_body())
    body = {"provider_id": provider["id"], "target": "+1", "name": None, "detail": None}
    created = await _send(http, "POST", "/v1.0/routes", admin_headers, body)
    assert (created["name"], created["detail"]) == ("", "")
    path = f"/v1.0/routes/{created['id']}"
    await _send(http, "PUT", path, admin_headers, {"name": "us"})
    kept = await _send(http, "PUT", path, admin_headers, {"name": None, "target": None})
    assert (kept["name"], kept["target"]) == ("us", "+1")
    await _send(http, "DELETE", path, admin_headers)
    await _send(http, "DELETE", f"/v1.0/providers/{provider['id']}", admin_headers)
