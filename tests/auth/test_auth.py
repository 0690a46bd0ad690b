"""The auth matrix on every provider route, and POST /auth/login.

Credentials come from ?token=, Authorization: Bearer, a `token` cookie, or ?accesskey=;
provider routes need ProjectSuperAdmin. Requests here go through a session without a cookie
jar, so nothing but the credentials a case names reaches the gateway.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import jwt
import pytest
from api_gateway.accounts import AccountStore, hash_accesskey
from api_gateway.app import GatewayApp
from api_gateway.permissions import Permission
from api_gateway.tables import accesskeys, accounts
from sqlalchemy import func, update

from tests.support.gateway_env import ADMIN_PASSWORD, ADMIN_USERNAME, JWT_SECRET
from tests.support.providers import provider_body

CUSTOMER_PASSWORD = "customer-password-123"


@dataclass(frozen=True)
class Creds:
    admin_token: str
    admin_id: str
    customer_token: str
    admin_key: str
    customer_key: str
    expired_key: str
    deleted_key: str


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


async def _login(session: aiohttp.ClientSession, username: str, password: str) -> str:
    async with session.post("/auth/login", json={"username": username, "password": password}) as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])


@pytest.fixture(scope="module")
async def creds(gateway: GatewayApp, anon: aiohttp.ClientSession, admin_token: str) -> Creds:
    store = AccountStore(gateway.sessions)
    customer = f"customer-{uuid.uuid4().hex[:8]}"
    await store.create_account(customer, CUSTOMER_PASSWORD, Permission.CUSTOMER_ADMIN)
    deleted_key = await store.create_accesskey(ADMIN_USERNAME, "to-delete")
    async with gateway.engine.begin() as conn:
        await conn.execute(
            update(accesskeys)
            .where(accesskeys.c.token_hash == hash_accesskey(deleted_key))
            .values(tm_delete=accesskeys.c.tm_create)
        )
    return Creds(
        admin_token=admin_token,
        admin_id=str(jwt.decode(admin_token, options={"verify_signature": False})["sub"]),
        customer_token=await _login(anon, customer, CUSTOMER_PASSWORD),
        admin_key=await store.create_accesskey(ADMIN_USERNAME, "admin-key"),
        customer_key=await store.create_accesskey(customer, "customer-key"),
        expired_key=await store.create_accesskey(
            ADMIN_USERNAME, "expired", expire=timedelta(seconds=-1)
        ),
        deleted_key=deleted_key,
    )


def _expired(c: Creds) -> str:
    now = int(time.time())
    claims = {"sub": c.admin_id, "permission": 1, "iat": now - 100, "exp": now - 10}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def _forged(c: Creds) -> str:
    header, payload, _ = c.admin_token.split(".")
    wrong = jwt.encode(
        jwt.decode(c.admin_token, options={"verify_signature": False}),
        "not-the-gateway-secret-0123456789abcdef",
        algorithm="HS256",
    )
    return f"{header}.{payload}.{wrong.split('.')[2]}"


def _alg_none(c: Creds) -> str:
    claims = jwt.decode(c.admin_token, options={"verify_signature": False})
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _customer_in_admin_clothing(c: Creds) -> str:
    """The customer's own token with permission bits raised: the signature breaks."""
    header, _, signature = c.customer_token.split(".")
    claims = jwt.decode(c.customer_token, options={"verify_signature": False})
    return f"{header}.{_b64({**claims, 'permission': 0xFFFF})}.{signature}"


# (case, how to attach credentials, expected status)
Attach = Callable[[Creds], tuple[dict[str, str], dict[str, str]]]  # -> (params, headers)
CASES: list[tuple[str, Attach, int]] = [
    ("no credentials", lambda c: ({}, {}), 401),
    ("empty token", lambda c: ({"token": ""}, {}), 401),
    ("expired token", lambda c: ({"token": _expired(c)}, {}), 401),
    ("forged signature", lambda c: ({}, {"Authorization": f"Bearer {_forged(c)}"}), 401),
    ("alg none", lambda c: ({}, {"Authorization": f"Bearer {_alg_none(c)}"}), 401),
    ("raised permission", lambda c: ({"token": _customer_in_admin_clothing(c)}, {}), 401),
    ("garbage bearer", lambda c: ({}, {"Authorization": "Bearer abc.def.ghi"}), 401),
    ("non-admin token", lambda c: ({"token": c.customer_token}, {}), 403),
    ("non-admin bearer", lambda c: ({}, {"Authorization": f"Bearer {c.customer_token}"}), 403),
    ("admin ?token=", lambda c: ({"token": c.admin_token}, {}), 200),
    ("admin bearer", lambda c: ({}, {"Authorization": f"Bearer {c.admin_token}"}), 200),
    ("admin cookie", lambda c: ({}, {"Cookie": f"token={c.admin_token}"}), 200),
    ("admin accesskey", lambda c: ({"accesskey": c.admin_key}, {}), 200),
    ("non-admin accesskey", lambda c: ({"accesskey": c.customer_key}, {}), 403),
    ("unknown accesskey", lambda c: ({"accesskey": "vbk_" + uuid.uuid4().hex}, {}), 401),
    ("expired accesskey", lambda c: ({"accesskey": c.expired_key}, {}), 401),
    ("deleted accesskey", lambda c: ({"accesskey": c.deleted_key}, {}), 401),
    # A bad token is not rescued by a good access key next to it.
    ("bad token + key", lambda c: ({"token": _expired(c), "accesskey": c.admin_key}, {}), 401),
]

# (route, method, needs an existing provider, body)
ROUTES: list[tuple[str, str, bool, Any]] = [
    ("/v1.0/providers", "GET", False, None),
    ("/v1.0/providers", "POST", False, "create"),
    ("/v1.0/providers/{id}", "GET", True, None),
    ("/v1.0/providers/{id}", "PUT", True, {"name": "auth matrix"}),
    ("/v1.0/providers/{id}", "DELETE", True, None),
]

NewProvider = Callable[[], Awaitable[str]]


@pytest.fixture
def new_provider(http: aiohttp.ClientSession, admin_headers: dict[str, str]) -> NewProvider:
    async def make() -> str:
        async with http.post("/v1.0/providers", json=provider_body(), headers=admin_headers) as r:
            assert r.status == 200
            return str((await r.json())["id"])

    return make


@pytest.mark.parametrize(("route", "method", "needs_id", "body"), ROUTES)
@pytest.mark.parametrize(("case", "attach", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_auth_matrix(
    anon: aiohttp.ClientSession,
    creds: Creds,
    new_provider: NewProvider,
    route: str,
    method: str,
    needs_id: bool,
    body: Any,
    case: str,
    attach: Attach,
    expected: int,
) -> None:
    path = route.replace("{id}", await new_provider()) if needs_id else route
    params, headers = attach(creds)
    payload = provider_body() if body == "create" else body
    async with anon.request(method, path, params=params, headers=headers, json=payload) as resp:
        answer = await resp.json()
        assert resp.status == expected, (case, answer)
    if expected == 401:
        assert answer["error"]["status"] == "UNAUTHENTICATED"
    elif expected == 403:
        assert answer["error"]["status"] == "PERMISSION_DENIED"
    elif method == "GET" and not needs_id:
        assert "result" in answer
    else:
        assert answer["id"]


async def test_refused_mutations_change_nothing(
    anon: aiohttp.ClientSession,
    creds: Creds,
    new_provider: NewProvider,
    http: aiohttp.ClientSession,
    admin_headers: dict[str, str],
) -> None:
    provider_id = await new_provider()
    path = f"/v1.0/providers/{provider_id}"
    async with http.get(path, headers=admin_headers) as resp:
        before = await resp.json()
    for params in ({}, {"token": creds.customer_token}, {"accesskey": creds.customer_key}):
        async with anon.put(path, params=params, json={"name": "hijacked"}) as resp:
            assert resp.status in (401, 403)
        async with anon.delete(path, params=params) as resp:
            assert resp.status in (401, 403)
    async with http.get(path, headers=admin_headers) as resp:
        assert await resp.json() == before


async def test_login(anon: aiohttp.ClientSession) -> None:
    async with anon.post(
        "/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    ) as resp:
        assert resp.status == 200
        answer = await resp.json()
        cookie = resp.cookies.get("token")
    assert set(answer) == {"username", "token"}
    assert answer["username"] == ADMIN_USERNAME
    claims = jwt.decode(answer["token"], JWT_SECRET, algorithms=["HS256"])
    assert claims["permission"] & 0x0001
    # Default expiry: 7 days.
    assert claims["exp"] - claims["iat"] == 7 * 24 * 3600
    assert jwt.get_unverified_header(answer["token"])["alg"] == "HS256"
    assert cookie is not None and cookie.value == answer["token"]
    assert cookie["httponly"]
    # The token works.
    async with anon.get("/v1.0/providers?page_size=1", params={"token": answer["token"]}) as r:
        assert r.status == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": ADMIN_USERNAME, "password": "wrong-password"}, 401),
        ({"username": "nobody-" + uuid.uuid4().hex, "password": ADMIN_PASSWORD}, 401),
        ({"username": ADMIN_USERNAME.upper(), "password": ADMIN_PASSWORD}, 401),
        ({"username": ADMIN_USERNAME, "password": ""}, 400),
        ({"username": ADMIN_USERNAME}, 400),
        ({"password": ADMIN_PASSWORD}, 400),
        ({"username": 1, "password": ADMIN_PASSWORD}, 400),
        ([ADMIN_USERNAME, ADMIN_PASSWORD], 400),
    ],
)
async def test_bad_login(anon: aiohttp.ClientSession, body: Any, status: int) -> None:
    async with anon.post("/auth/login", json=body) as resp:
        assert resp.status == status
        answer = await resp.json()
        assert "token" not in resp.cookies
    assert "token" not in answer
    if status == 401:
        assert answer["error"]["reason"] == "INVALID_CREDENTIALS"
        # Same answer for a wrong password and an unknown user.
        assert answer["error"]["message"] == "wrong username or password"


async def test_login_bad_json(anon: aiohttp.ClientSession) -> None:
    async with anon.post(
        "/auth/login", data=b"{", headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["reason"] == "INVALID_JSON_BODY"


async def test_token_of_a_deleted_account_is_refused(
    gateway: GatewayApp, anon: aiohttp.ClientSession
) -> None:
    """Accounts are re-read (briefly cached), so a deleted one stops working before its
    token expires. This account was never used before, so nothing is cached for it."""
    store = AccountStore(gateway.sessions)
    username = f"leaver-{uuid.uuid4().hex[:8]}"
    await store.create_account(username, CUSTOMER_PASSWORD, Permission.PROJECT_SUPER_ADMIN)
    token = await _login(anon, username, CUSTOMER_PASSWORD)
    async with gateway.engine.begin() as conn:
        await conn.execute(
            update(accounts).where(accounts.c.username == username).values(tm_delete=func.now())
        )
    async with anon.get("/v1.0/providers", params={"token": token}) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["reason"] == "INVALID_TOKEN"
    # And it can no longer log in.
    async with anon.post(
        "/auth/login", json={"username": username, "password": CUSTOMER_PASSWORD}
    ) as resp:
        assert resp.status == 401
