"""Every bad input gets its 400 naming the field and leaves the providers table unchanged;
protocol errors (bad JSON, bad UUID, 413, 404, 405) use the one error envelope."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest
from provider_manager.app import ProviderManagerApp

from tests.support.providers import provider_body, providers_snapshot

Headers = dict[str, str]

BAD_BODIES: list[tuple[str, Any]] = [
    ("type", {"type": "iax2"}),
    ("type", {"type": "SIP"}),
    ("type", {"type": None}),
    ("hostname", {"hostname": ""}),
    ("hostname", {"hostname": 42}),
    ("hostname", {"hostname": "sip://sip.example.com"}),
    ("hostname", {"hostname": "sip.example.com/path"}),
    ("hostname", {"hostname": "user@sip.example.com"}),
    ("hostname", {"hostname": "sip example.com"}),
    ("hostname", {"hostname": "sip.example.com:0"}),
    ("hostname", {"hostname": "sip.example.com:65536"}),
    ("hostname", {"hostname": "[::1]:99999"}),
    ("hostname", {"hostname": "1.2.3.999"}),
    ("hostname", {"hostname": "h" * 256}),
    ("name", {"name": "n" * 256}),
    ("name", {"name": ["x"]}),
    ("detail", {"detail": "nul\u0000byte"}),
    ("tech_prefix", {"tech_prefix": "p" * 256}),
    ("tech_prefix", {"tech_prefix": "9 "}),
    ("tech_prefix", {"tech_prefix": "9\u0007"}),
    ("tech_postfix", {"tech_postfix": "p" * 256}),
    ("tech_postfix", {"tech_postfix": "\n"}),
    ("tech_headers", {"tech_headers": ["X-A"]}),
    ("tech_headers", {"tech_headers": {"X-A": 1}}),
    ("tech_headers", {"tech_headers": {"X-A": None}}),
    ("tech_headers", {"tech_headers": {"X-A": {"nested": "x"}}}),
    ("tech_headers", {"tech_headers": {f"X-{i}": "v" for i in range(33)}}),
    ("tech_headers", {"tech_headers": {"Bad Name": "v"}}),
    ("tech_headers", {"tech_headers": {"X-A\r\nVia": "v"}}),
    ("tech_headers", {"tech_headers": {"Call-ID": "v"}}),
    ("tech_headers", {"tech_headers": {"p-asserted-identity": "v"}}),
    ("tech_headers", {"tech_headers": {"M": "v"}}),
    ("tech_headers", {"tech_headers": {"X-A": "v" * 1025}}),
    ("tech_headers", {"tech_headers": {"X-A": "a\r\nVia: SIP/2.0/UDP evil"}}),
    ("tech_headers", {"tech_headers": {"X-A": "a\u0000b"}}),
    # carrier edge (issue 9)
    ("transport", {"transport": "sctp"}),
    ("transport", {"transport": "UDP"}),
    ("transport", {"transport": 1}),
    ("auth_username", {"auth_username": "a\r\nVia: x"}),
    ("auth_username", {"auth_username": 'a"b'}),
    ("auth_username", {"auth_username": "u" * 256}),
    ("auth_username", {"auth_username": 7}),
    ("auth_password", {"auth_password": "no-user-name"}),
    ("auth_password", {"auth_username": "", "auth_password": "no-user-name"}),
    ("auth_password", {"auth_username": "u", "auth_password": "p\nq"}),
    ("auth_password", {"auth_username": "u", "auth_password": 42}),
    ("register", {"register": True}),
    ("register", {"auth_username": "u", "register": True}),
    ("register", {"auth_username": "u", "auth_password": "", "register": True}),
    ("register", {"register": "yes"}),
    ("register_expires", {"register_expires": 59}),
    ("register_expires", {"register_expires": 86401}),
    ("register_expires", {"register_expires": "3600"}),
]


def _check_400(resp_status: int, payload: dict[str, Any], field: str) -> None:
    assert resp_status == 400, payload
    error = payload["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"]["field"].split(".")[0] == field
    assert error["message"].startswith(field)
    assert error["request_id"]


@pytest.mark.parametrize(("field", "change"), BAD_BODIES)
async def test_bad_create_is_400_and_changes_nothing(
    http: aiohttp.ClientSession,
    admin_headers: Headers,
    provider_manager: ProviderManagerApp,
    field: str,
    change: dict[str, Any],
) -> None:
    before = await providers_snapshot(provider_manager.engine)
    async with http.post(
        "/v1.0/providers", json={**provider_body(), **change}, headers=admin_headers
    ) as resp:
        _check_400(resp.status, await resp.json(), field)
    assert await providers_snapshot(provider_manager.engine) == before


@pytest.mark.parametrize(("field", "change"), [b for b in BAD_BODIES if b[1][b[0]] is not None])
async def test_bad_update_is_400_and_changes_nothing(
    http: aiohttp.ClientSession,
    admin_headers: Headers,
    provider_manager: ProviderManagerApp,
    existing: dict[str, Any],
    field: str,
    change: dict[str, Any],
) -> None:
    before = await providers_snapshot(provider_manager.engine)
    async with http.put(
        f"/v1.0/providers/{existing['id']}",
        json={"name": "would change", **change},
        headers=admin_headers,
    ) as resp:
        _check_400(resp.status, await resp.json(), field)
    assert await providers_snapshot(provider_manager.engine) == before


@pytest.mark.parametrize("field", ["type", "hostname"])
async def test_missing_required_field(
    http: aiohttp.ClientSession,
    admin_headers: Headers,
    provider_manager: ProviderManagerApp,
    field: str,
) -> None:
    body = provider_body()
    del body[field]
    before = await providers_snapshot(provider_manager.engine)
    async with http.post("/v1.0/providers", json=body, headers=admin_headers) as resp:
        _check_400(resp.status, await resp.json(), field)
    assert await providers_snapshot(provider_manager.engine) == before


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"type": "sip",}', b"not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"42"],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_bad_json_is_400(
    http: aiohttp.ClientSession,
    admin_headers: Headers,
    provider_manager: ProviderManagerApp,
    existing: dict[str, Any],
    raw: bytes,
    method: str,
) -> None:
    path = "/v1.0/providers" if method == "POST" else f"/v1.0/providers/{existing['id']}"
    before = await providers_snapshot(provider_manager.engine)
    async with http.request(
        method, path, data=raw, headers={**admin_headers, "Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["reason"] == "INVALID_JSON_BODY"
    assert await providers_snapshot(provider_manager.engine) == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("bad", ["not-a-uuid", "1234", "4dbeabd6-f397-4375-95d2-a38411e07ed"])
async def test_bad_uuid_is_400(
    http: aiohttp.ClientSession, admin_headers: Headers, method: str, bad: str
) -> None:
    async with http.request(
        method, f"/v1.0/providers/{bad}", json={"name": "x"}, headers=admin_headers
    ) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["reason"] == "INVALID_ID"
    assert error["message"].startswith("id")


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_body_over_1_mib_is_413(
    http: aiohttp.ClientSession,
    admin_headers: Headers,
    provider_manager: ProviderManagerApp,
    existing: dict[str, Any],
    method: str,
) -> None:
    path = "/v1.0/providers" if method == "POST" else f"/v1.0/providers/{existing['id']}"
    body = json.dumps({**provider_body(), "detail": "d" * (1024 * 1024)}).encode()
    before = await providers_snapshot(provider_manager.engine)
    async with http.request(
        method, path, data=body, headers={**admin_headers, "Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413
        error = (await resp.json())["error"]
    assert error["status"] == "PAYLOAD_TOO_LARGE"
    assert await providers_snapshot(provider_manager.engine) == before


async def test_body_just_under_the_limit_is_read(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    # Not a 413: it is read, and refused for its content (detail is over 4096 characters).
    body = json.dumps({**provider_body(), "detail": "d" * (1024 * 1024 - 500)}).encode()
    assert len(body) < 1024 * 1024
    async with http.post(
        "/v1.0/providers",
        data=body,
        headers={**admin_headers, "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["details"] == {"field": "detail"}


@pytest.mark.parametrize(
    "path",
    ["/v1.0/nothing", "/v1.0/providers/a/b", "/v2.0/providers", "/", "/v1.0/providers/"],
)
async def test_unknown_route_is_404(
    http: aiohttp.ClientSession, admin_headers: Headers, path: str
) -> None:
    async with http.get(path, headers=admin_headers) as resp:
        assert resp.status == 404
        error = (await resp.json())["error"]
        assert error["status"] == "NOT_FOUND"
        assert error["request_id"] == resp.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/v1.0/providers"),
        ("DELETE", "/v1.0/providers"),
        ("PUT", "/v1.0/providers"),
        ("POST", f"/v1.0/providers/{uuid.uuid4()}"),
        ("PATCH", f"/v1.0/providers/{uuid.uuid4()}"),
        ("GET", "/auth/login"),
    ],
)
async def test_wrong_method_is_405(
    http: aiohttp.ClientSession, admin_headers: Headers, method: str, path: str
) -> None:
    async with http.request(method, path, headers=admin_headers) as resp:
        assert resp.status == 405
        error = (await resp.json())["error"]
    assert error["status"] == "METHOD_NOT_ALLOWED"
    assert set(error) >= {"status", "reason", "message", "request_id"}


async def test_error_envelope_leaks_no_internals(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    async with http.get(f"/v1.0/providers/{uuid.uuid4()}", headers=admin_headers) as resp:
        payload = await resp.json()
    assert set(payload) == {"error"}
    assert set(payload["error"]) <= {"status", "reason", "message", "request_id", "details"}
    text = json.dumps(payload).lower()
    for internal in ("traceback", "sqlalchemy", "select ", "asyncpg", "amqp"):
        assert internal not in text
