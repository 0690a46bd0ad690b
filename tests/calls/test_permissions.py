"""Who may use the call routes: ProviderCalls are for project super admins; calls and
groupcalls for their own customer's admins and managers (404 for anyone else's)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from api_gateway.accounts import AccountStore
from api_gateway.app import GatewayApp
from api_gateway.permissions import Permission
from shared.sip.testing.sipp import SippProcess

from tests.support.calls import (
    CALL_SCENARIOS,
    call_body,
    create_provider,
    new_uuid,
    post_providercall,
    wait_call,
)

PASSWORD = "a-long-test-password"


async def _login(http: aiohttp.ClientSession, username: str) -> dict[str, str]:
    async with http.post("/auth/login", json={"username": username, "password": PASSWORD}) as r:
        assert r.status == 200, await r.text()
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


@pytest.fixture(scope="module")
async def people(
    gateway: GatewayApp, calls_api: aiohttp.ClientSession, admin_customer: str
) -> dict[str, dict[str, str]]:
    store = AccountStore(gateway.sessions)
    suffix = new_uuid()[:8]
    roles = {
        "customer_admin": (Permission.CUSTOMER_ADMIN, admin_customer),
        "customer_manager": (Permission.CUSTOMER_MANAGER, admin_customer),
        "customer_agent": (Permission.CUSTOMER_AGENT, admin_customer),
        "other_admin": (Permission.CUSTOMER_ADMIN, new_uuid()),
    }
    headers: dict[str, dict[str, str]] = {}
    for role, (permission, customer) in roles.items():
        name = f"{role}-{suffix}"
        await store.create_account(name, PASSWORD, permission, customer)
        headers[role] = await _login(calls_api, name)
    return headers


@pytest.fixture(scope="module")
async def finished(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], tmp_path_factory: Any
) -> dict[str, Any]:
    async with SippProcess(
        tmp_path_factory.mktemp("perm"), scenario=CALL_SCENARIOS / "uas_busy.xml"
    ) as carrier:
        provider = await create_provider(calls_api, admin_headers, carrier.target)
        created = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], "+821012345678")
        )
        await wait_call(calls_api, admin_headers, created["call_ids"][0], "hangup")
    return {"provider": provider, "providercall": created, "call_id": created["call_ids"][0]}


async def _status(http: aiohttp.ClientSession, method: str, path: str, headers: Any) -> int:
    body = call_body(new_uuid(), "+821012345678") if method == "POST" else None
    async with http.request(method, path, json=body, headers=headers) as resp:
        return resp.status


@pytest.mark.parametrize(
    "role", ["customer_admin", "customer_manager", "customer_agent", "other_admin"]
)
async def test_providercalls_are_for_project_super_admins_only(
    calls_api: aiohttp.ClientSession,
    people: dict[str, dict[str, str]],
    finished: dict[str, Any],
    role: str,
) -> None:
    pc = finished["providercall"]["id"]
    for method, path in [
        ("GET", "/v1.0/providercalls"),
        ("POST", "/v1.0/providercalls"),
        ("GET", f"/v1.0/providercalls/{pc}"),
        ("DELETE", f"/v1.0/providercalls/{pc}"),
    ]:
        assert await _status(calls_api, method, path, people[role]) == 403, (method, path)


async def test_calls_are_readable_by_their_customers_admins_and_managers(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    people: dict[str, dict[str, str]],
    finished: dict[str, Any],
) -> None:
    call_id = finished["call_id"]
    expected = {
        "customer_admin": 200,
        "customer_manager": 200,
        "customer_agent": 403,
        "other_admin": 404,
    }
    for role, status in expected.items():
        headers = people[role]
        assert await _status(calls_api, "GET", f"/v1.0/calls/{call_id}", headers) == status, role
        hangup_status = await _status(calls_api, "POST", f"/v1.0/calls/{call_id}/hangup", headers)
        assert hangup_status == status, role
    assert await _status(calls_api, "GET", f"/v1.0/calls/{call_id}", admin_headers) == 200
    for path in ("/v1.0/calls", "/v1.0/groupcalls"):
        assert await _status(calls_api, "GET", path, people["customer_agent"]) == 403
        assert await _status(calls_api, "GET", path, {}) == 401
    assert await _status(calls_api, "GET", f"/v1.0/calls/{call_id}", {}) == 401


async def test_call_lists_are_scoped_to_the_callers_customer(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    people: dict[str, dict[str, str]],
    finished: dict[str, Any],
) -> None:
    call_id = finished["call_id"]

    async def ids(headers: dict[str, str]) -> list[str]:
        async with calls_api.get("/v1.0/calls", headers=headers) as resp:
            assert resp.status == 200
            return [c["id"] for c in (await resp.json())["result"]]

    assert call_id in await ids(people["customer_manager"])
    assert call_id in await ids(admin_headers)
    assert call_id not in await ids(people["other_admin"])
    async with calls_api.get("/v1.0/groupcalls", headers=people["other_admin"]) as resp:
        assert resp.status == 200
        assert (await resp.json())["result"] == []
    missing = f"/v1.0/groupcalls/{new_uuid()}"
    assert await _status(calls_api, "GET", missing, people["customer_admin"]) == 404
