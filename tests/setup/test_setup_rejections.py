"""Setups refused before anything is created: bad input (400 naming the field), an
unsupported carrier, a rejected key (422), no egress configured (503), no admin (401)."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest
from api_gateway.app import GatewayApp
from shared.rpc import RpcClient

from tests.support.apps import provider_manager_app, running
from tests.support.carrier_setup import SETUP_URI, SetupDriver, assert_nothing_left, setup_body
from tests.support.telnyx_fake import FORBIDDEN_KEY, VALID_KEY, FakeTelnyx

BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("no carrier", {"name": "n", "credentials": {"api_key": VALID_KEY}}, "carrier"),
    ("empty carrier", setup_body(carrier=""), "carrier"),
    ("no name", {"carrier": "telnyx", "credentials": {"api_key": VALID_KEY}}, "name"),
    ("empty name", setup_body(name=""), "name"),
    ("blank name", setup_body(name="   "), "name"),
    ("no credentials", {"carrier": "telnyx", "name": "n"}, "credentials"),
    ("no api_key", setup_body(credentials={}), "credentials.api_key"),
    ("empty api_key", setup_body(key=""), "credentials.api_key"),
    ("api_key not a string", setup_body(credentials={"api_key": 42}), "credentials.api_key"),
    ("name too long", setup_body(name="x" * 256), "name"),
]


@pytest.mark.parametrize(
    ("body", "field"), [(b, f) for _, b, f in BAD_BODIES], ids=[i for i, _, _ in BAD_BODIES]
)
async def test_bad_input_is_a_400_naming_the_field(
    fake: FakeTelnyx,
    driver: SetupDriver,
    setup_http: aiohttp.ClientSession,
    body: dict[str, Any],
    field: str,
) -> None:
    # The gateway refuses it, and so does provider-manager when called over RPC directly.
    async with setup_http.post("/v1.0/providers/setup", json=body) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith(f"{field}: ")
    assert error["details"] == {"field": field}
    reply = await driver.setup(body)
    assert reply.status_code == 400 and reply.data["details"] == {"field": field}
    assert fake.requests == []


async def test_unsupported_carrier_is_a_400_listing_the_supported_ones(
    fake: FakeTelnyx, driver: SetupDriver, setup_http: aiohttp.ClientSession
) -> None:
    async with setup_http.post("/v1.0/providers/setup", json=setup_body(carrier="twilio")) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["details"] == {"field": "carrier"}
    assert "twilio" in error["message"] and "supported carriers: telnyx" in error["message"]
    assert fake.requests == []


@pytest.mark.parametrize(
    ("key", "calls"),
    [
        (f"KEY_UNKNOWN_{uuid.uuid4().hex}", [("GET", "/v2/balance")]),
        (FORBIDDEN_KEY, [("GET", "/v2/balance"), ("GET", "/v2/outbound_voice_profiles")]),
    ],
    ids=["401 invalid key", "403 everywhere"],
)
async def test_rejected_key_is_a_422_and_creates_nothing(
    fake: FakeTelnyx,
    driver: SetupDriver,
    setup_http: aiohttp.ClientSession,
    key: str,
    calls: list[tuple[str, str]],
) -> None:
    before = await driver.providers_table()
    async with setup_http.post("/v1.0/providers/setup", json=setup_body(key=key)) as resp:
        assert resp.status == 422
        error = (await resp.json())["error"]
    assert error["status"] == "UNPROCESSABLE" and error["reason"] == "CARRIER_KEY_REJECTED"
    assert error["details"]["step"] == "key_check"
    assert error["details"]["cleanup"] == "complete"
    assert fake.calls() == calls
    assert_nothing_left(fake, error["details"]["setup_id"])
    assert await driver.providers_table() == before
    record = await driver.journal(error["details"]["setup_id"])
    assert record["state"] == "rolled_back"
    assert record["errors"][0]["reason"] == "CARRIER_KEY_REJECTED"


async def test_unconfigured_egress_is_a_clear_503(
    platform_env: dict[str, Any], rpc: RpcClient, fake_telnyx: FakeTelnyx
) -> None:
    env = {
        **platform_env,
        "QUEUE_PREFIX": f"{platform_env['QUEUE_PREFIX']}-noegress-{uuid.uuid4().hex[:6]}",
        "TELNYX_API_BASE_URL": fake_telnyx.base_url,
        "TELNYX_SIP_EGRESS_ADDRESSES": "",
    }
    async with running(provider_manager_app(env)) as app:
        fake_telnyx.reset()
        queue = app.settings.request_queue("provider-manager")
        reply = await rpc.call(queue, "POST", SETUP_URI, setup_body(), timeout=10)
    assert reply.status_code == 503
    assert reply.data["reason"] == "CARRIER_SETUP_NOT_CONFIGURED"
    assert "TELNYX_SIP_EGRESS_ADDRESSES" in reply.data["message"]
    assert fake_telnyx.requests == []


async def test_setup_needs_a_project_super_admin(setup_gateway: GatewayApp) -> None:
    async with (
        aiohttp.ClientSession(base_url=f"http://127.0.0.1:{setup_gateway.port}") as anonymous,
        anonymous.post("/v1.0/providers/setup", json=setup_body()) as resp,
    ):
        assert resp.status == 401


async def test_setup_is_in_the_openapi_document(setup_http: aiohttp.ClientSession) -> None:
    async with setup_http.get("/openapi.json") as resp:
        document = await resp.json()
    op = document["paths"]["/v1.0/providers/setup"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ProviderSetupRequest"
    )
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Provider"
    )
    assert {"400", "422", "502", "503"} <= set(op["responses"])
    assert "ProjectSuperAdmin" in op["description"] or "PROJECT_SUPER_ADMIN" in op["description"]
    schemas = document["components"]["schemas"]
    assert schemas["ProviderSetupRequest"]["properties"]["carrier"]["enum"] == ["telnyx"]
    key = schemas["SetupCredentials"]["properties"]["api_key"]
    assert key["writeOnly"] is True and key["format"] == "password"
