"""Provider transport, Digest credentials and registration fields (issue 9, item 3).

The password goes in through the gateway and must come out only through provider-manager's
internal credentials route: never in a reply, a log line (DEBUG included), an event or a
table column in clear.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest
from provider_manager.app import ProviderManagerApp
from provider_manager.credentials import CredentialCipher
from provider_manager.services.providers import ProviderService
from shared.contracts.providers import ProviderCreate
from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcClient
from sqlalchemy import text

from tests.support.events import EventCollector
from tests.support.logs import debug_logs
from tests.support.providers import assert_provider_shape, provider_body, providers_snapshot

Headers = dict[str, str]


def _secret() -> str:
    return f"pw-{uuid.uuid4().hex}"


async def _call(
    http: aiohttp.ClientSession, method: str, path: str, headers: Headers, body: Any = None
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, path, json=body, headers=headers) as resp:
        return resp.status, dict(await resp.json())


async def _credentials(rpc: RpcClient, queue: str, provider_id: str) -> dict[str, Any]:
    reply = await rpc.request(queue, "GET", f"/v1/providers/{provider_id}/credentials")
    assert isinstance(reply, dict)
    return reply


async def _database_text(app: ProviderManagerApp) -> str:
    """Every column of every row of every table of every schema, as text."""
    async with app.engine.connect() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                    "AND table_type = 'BASE TABLE'"
                )
            )
        ).all()
        parts = []
        for schema, table in tables:
            rows = await conn.execute(text(f'SELECT t::text FROM "{schema}"."{table}" t'))
            parts += [str(r[0]) for r in rows]
    return "\n".join(parts)


async def test_fields_round_trip_and_the_password_stays_inside(
    http: aiohttp.ClientSession,
    admin_headers: Headers,
    provider_manager: ProviderManagerApp,
    rpc: RpcClient,
    queues: dict[str, str],
    events: EventCollector,
    capfd: pytest.CaptureFixture[str],
) -> None:
    password, second = _secret(), _secret()
    with debug_logs():
        status, created = await _call(
            http,
            "POST",
            "/v1.0/providers",
            admin_headers,
            provider_body(
                transport="tcp",
                auth_username="trunk-user",
                auth_password=password,
                register=True,
                register_expires=600,
            ),
        )
        assert status == 200, created
        assert_provider_shape(created)
        pid = created["id"]
        assert created["transport"] == "tcp"
        assert created["auth_username"] == "trunk-user"
        assert created["auth_password_set"] is True
        assert created["register"] is True
        assert created["register_expires"] == 600
        assert created["registration_status"] == "registering"
        assert created["registration_changed_at"] is not None
        assert (await _credentials(rpc, queues["provider-manager"], pid))[
            "auth_password"
        ] == password

        # A PUT without the password keeps it; other fields change.
        status, updated = await _call(
            http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"transport": "tls"}
        )
        assert status == 200 and updated["transport"] == "tls", updated
        assert updated["auth_password_set"] is True
        creds = await _credentials(rpc, queues["provider-manager"], pid)
        assert creds == {
            "provider_id": pid,
            "auth_username": "trunk-user",
            "auth_password": password,
            "tm_update": updated["tm_update"],
        }

        # A new password replaces it.
        status, updated = await _call(
            http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"auth_password": second}
        )
        assert status == 200, updated
        creds = await _credentials(rpc, queues["provider-manager"], pid)
        assert creds["auth_password"] == second

        # Turning registration off is visible at once, with the time of the change.
        status, off = await _call(
            http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"register": False}
        )
        assert status == 200 and off["registration_status"] == "unregistered", off
        assert off["registration_changed_at"] >= updated["registration_changed_at"]

        status, got = await _call(http, "GET", f"/v1.0/providers/{pid}", admin_headers)
        assert status == 200 and "auth_password" not in got
        status, page = await _call(http, "GET", "/v1.0/providers?page_size=100", admin_headers)
        assert status == 200

        # The internal route is not published by the gateway.
        status, missing = await _call(
            http, "GET", f"/v1.0/providers/{pid}/credentials", admin_headers
        )
        assert status == 404, missing

        await events.wait_for("provider_updated", count=3, id=pid)
        replies = json.dumps([created, updated, off, got, page])
        stored = await _database_text(provider_manager)
        logs = capfd.readouterr()

    for secret in (password, second):
        assert secret not in replies
        assert secret not in json.dumps(events.events)
        assert secret not in stored
        assert secret not in logs.out and secret not in logs.err
    # The capture did see the requests, so its silence about the password means something.
    assert logs.out.count('"http_request"') >= 7, logs.out[-2000:]
    async with provider_manager.engine.connect() as conn:
        sealed = (
            await conn.execute(
                text("SELECT auth_password_enc FROM provider_manager.providers WHERE id = :i"),
                {"i": pid},
            )
        ).scalar_one()
    assert sealed.startswith("v1.")


async def test_empty_password_removes_it_and_registration_then_needs_one(
    http: aiohttp.ClientSession,
    admin_headers: Headers,
    provider_manager: ProviderManagerApp,
    rpc: RpcClient,
    queues: dict[str, str],
) -> None:
    status, created = await _call(
        http,
        "POST",
        "/v1.0/providers",
        admin_headers,
        provider_body(auth_username="u1", auth_password=_secret()),
    )
    assert status == 200 and created["registration_status"] == "unregistered", created
    assert created["registration_changed_at"] is None
    pid = created["id"]

    status, cleared = await _call(
        http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"auth_password": ""}
    )
    assert status == 200 and cleared["auth_password_set"] is False, cleared
    with pytest.raises(AppError) as caught:
        await _credentials(rpc, queues["provider-manager"], pid)
    assert caught.value.status is ErrorStatus.NOT_FOUND

    # The body alone looks fine; the stored record has no password: provider-manager says no.
    before = await providers_snapshot(provider_manager.engine)
    status, error = await _call(
        http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"register": True, "name": "x"}
    )
    assert status == 400, error
    assert error["error"]["details"] == {"field": "register"}
    # Removing the user name while a password is stored names the user name.
    status, _ = await _call(
        http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"auth_password": "p"}
    )
    assert status == 200
    status, error = await _call(
        http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"auth_username": ""}
    )
    assert status == 400 and error["error"]["details"] == {"field": "auth_username"}, error
    status, _ = await _call(
        http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"auth_password": ""}
    )
    assert status == 200
    assert await providers_snapshot(provider_manager.engine) != before  # the two PUTs above
    after_puts = await providers_snapshot(provider_manager.engine)
    status, error = await _call(
        http, "PUT", f"/v1.0/providers/{pid}", admin_headers, {"register": True}
    )
    assert status == 400
    assert await providers_snapshot(provider_manager.engine) == after_puts


async def test_defaults_for_existing_clients(
    http: aiohttp.ClientSession, admin_headers: Headers
) -> None:
    status, created = await _call(http, "POST", "/v1.0/providers", admin_headers, provider_body())
    assert status == 200
    assert {k: created[k] for k in ("transport", "auth_username", "auth_password_set")} == {
        "transport": "",
        "auth_username": "",
        "auth_password_set": False,
    }
    assert created["register"] is False and created["register_expires"] == 3600
    assert created["registration_status"] == "unregistered"


async def test_without_a_key_passwords_are_refused_not_stored_in_clear(
    provider_manager: ProviderManagerApp,
) -> None:
    service = ProviderService(provider_manager.sessions, None, CredentialCipher(None))
    before = await providers_snapshot(provider_manager.engine)
    body = ProviderCreate.model_validate(
        provider_body(auth_username="u", auth_password="would-be-clear")
    )
    with pytest.raises(AppError) as caught:
        await service.create(str(uuid.uuid4()), body)
    assert caught.value.http_status == 503
    assert caught.value.reason == "CREDENTIALS_NOT_CONFIGURED"
    assert await providers_snapshot(provider_manager.engine) == before
    # Providers without a password still work.
    created = await service.create(
        str(uuid.uuid4()), ProviderCreate.model_validate(provider_body())
    )
    assert created["auth_password_set"] is False


async def test_openapi_marks_the_password_write_only(http: aiohttp.ClientSession) -> None:
    async with http.get("/openapi.json") as resp:
        spec = await resp.json()
    schemas = spec["components"]["schemas"]
    assert schemas["ProviderCreate"]["properties"]["auth_password"]["writeOnly"] is True
    assert "auth_password" not in schemas["Provider"]["properties"]
    assert schemas["ProviderCreate"]["properties"]["transport"]["enum"] == ["", "udp", "tcp", "tls"]
