"""/v1.0/routes end to end: HTTP -> api-gateway -> RPC -> provider-manager -> PostgreSQL.

Every route here names its customer, so none becomes a default route of the shared database.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest
from api_gateway.accounts import AccountStore
from api_gateway.app import GatewayApp
from api_gateway.permissions import Permission

Headers = dict[str, str]
ROUTE = f"/v1.0/routes/{uuid.uuid4()}"
ENDPOINTS = [
    ("GET", "/v1.0/routes"),
    ("POST", "/v1.0/routes"),
    ("GET", ROUTE),
    ("PUT", ROUTE),
    ("DELETE", ROUTE),
]


@pytest.fixture(scope="module")
async def customer_admin_headers(gateway: GatewayApp, http: aiohttp.ClientSession) -> Headers:
    """A CustomerAdmin and CustomerManager: powerful within a customer, not a ProjectSuperAdmin."""
    username, password = f"cust-{uuid.uuid4().hex[:8]}", "customer-password"
    await AccountStore(gateway.sessions).create_account(
        username, password, Permission.CUSTOMER_ADMIN | Permission.CUSTOMER_MANAGER
    )
    async with http.post("/auth/login", json={"username": username, "password": password}) as r:
        assert r.status == 200, await r.text()
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


async def _send(
    http: aiohttp.ClientSession, method: str, path: str, headers: Headers, body: Any = None
) -> tuple[int, Any]:
    async with http.request(method, path, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def _provider(http: aiohttp.ClientSession, headers: Headers) -> str:
    body = {"type": "sip", "hostname": f"gw-{uuid.uuid4().hex[:8]}.example.com"}
    status, created = await _send(http, "POST", "/v1.0/providers", headers, body)
    assert status == 200, created
    return str(created["id"])


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_without_credentials_is_401(
    http: aiohttp.ClientSession, method: str, path: str
) -> None:
    status, body = await _send(http, method, path, {}, {})
    assert status == 401
    assert body["error"]["status"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_non_admin_is_403(
    http: aiohttp.ClientSession, customer_admin_headers: Headers, method: str, path: str
) -> None:
    status, body = await _send(http, method, path, customer_admin_headers, {})
    assert status == 403
    assert body["error"]["reason"] == "PERMISSION_DENIED"


async def test_crud_through_the_gateway(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    customer = str(uuid.uuid4())
    provider = await _provider(http, admin_headers)
    body = {"customer_id": customer, "provider_id": provider, "target": "+82", "priority": 2}
    status, created = await _send(http, "POST", "/v1.0/routes", admin_headers, body)
    assert status == 200, created
    assert {k: created[k] for k in body} == body
    assert created["tm_delete"] == "9999-01-01 00:00:00.000000"
    path = f"/v1.0/routes/{created['id']}"

    assert await _send(http, "GET", path, admin_headers) == (200, created)
    status, updated = await _send(http, "PUT", path, admin_headers, {"name": "korea"})
    assert (status, updated["name"], updated["target"]) == (200, "korea", "+82")
    status, listed = await _send(
        http, "GET", f"/v1.0/routes?customer_id={customer}&page_size=10", admin_headers
    )
    assert (status, listed["result"]) == (200, [updated])
    assert listed["next_page_token"] == f"{updated['tm_create']},{updated['id']}"

    status, deleted = await _send(http, "DELETE", path, admin_headers)
    assert status == 200 and deleted["tm_delete"] != "9999-01-01 00:00:00.000000"
    assert await _send(http, "GET", path, admin_headers) == (200, deleted)
    status, again = await _send(http, "DELETE", path, admin_headers)
    assert (status, again["error"]["reason"]) == (404, "ROUTE_NOT_FOUND")
    status, listed = await _send(http, "GET", f"/v1.0/routes?customer_id={customer}", admin_headers)
    assert listed["result"] == []


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"target": "1"}, "target"),
        ({"target": "+"}, "target"),
        ({"target": "+123456789"}, "target"),
        ({"target": "+12a"}, "target"),
        ({"priority": "high"}, "priority"),
        ({"provider_id": "x"}, "provider_id"),
        ({"provider_id": "7D0E3A4E00004000800000000000000"}, "provider_id"),
    ],
)
async def test_bad_create_is_400_naming_the_field(
    http: aiohttp.ClientSession, admin_headers: Headers, override: dict[str, Any], field: str
) -> None:
    provider = await _provider(http, admin_headers)
    body = {"customer_id": str(uuid.uuid4()), "provider_id": provider, "target": "+1", **override}
    status, reply = await _send(http, "POST", "/v1.0/routes", admin_headers, body)
    assert status == 400
    assert reply["error"]["details"] == {"field": field}
    assert reply["error"]["message"].startswith(f"{field}: ")


async def test_deleted_provider_is_refused(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    provider = await _provider(http, admin_headers)
    assert (await _send(http, "DELETE", f"/v1.0/providers/{provider}", admin_headers))[0] == 200
    body = {"customer_id": str(uuid.uuid4()), "provider_id": provider, "target": "all"}
    status, reply = await _send(http, "POST", "/v1.0/routes", admin_headers, body)
    # Well formed, but it names no live provider: 404, like one that never existed.
    assert status == 404
    never = {**body, "provider_id": "7d0e3a4e-0000-4000-8000-000000000000"}
    assert (await _send(http, "POST", "/v1.0/routes", admin_headers, never))[0] == 404
    assert reply["error"]["reason"] == "PROVIDER_NOT_FOUND"
    assert reply["error"]["details"] == {"field": "provider_id"}


async def test_bad_list_and_path_parameters(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    for query, field in (("customer_id=x", "customer_id"), ("page_token=zzz", "page_token")):
        status, reply = await _send(http, "GET", f"/v1.0/routes?{query}", admin_headers)
        assert (status, reply["error"]["details"]) == (400, {"field": field})
    status, reply = await _send(http, "GET", "/v1.0/routes/not-a-uuid", admin_headers)
    assert (status, reply["error"]["reason"]) == (400, "INVALID_ID")
    status, reply = await _send(http, "PUT", ROUTE, admin_headers, {"priority": True})
    assert (status, reply["error"]["details"]) == (400, {"field": "priority"})


async def test_openapi_documents_the_routes(http: aiohttp.ClientSession) -> None:
    async with http.get("/openapi.json") as resp:
        document = await resp.json()
    assert set(document["paths"]["/v1.0/routes"]) == {"get", "post"}
    assert set(document["paths"]["/v1.0/routes/{id}"]) == {"get", "put", "delete"}
    assert {"Route", "RouteCreate", "RouteUpdate", "RouteList"} <= set(
        document["components"]["schemas"]
    )
