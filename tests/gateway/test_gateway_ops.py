"""/openapi.json, the ops endpoints, and secrets kept out of the logs."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from api_gateway.accounts import AccountStore
from api_gateway.app import GatewayApp
from openapi_spec_validator import validate
from shared.logging import configure_logging

from tests.support.gateway_env import ADMIN_PASSWORD, ADMIN_USERNAME, JWT_SECRET
from tests.support.providers import provider_body

PROVIDER_OPERATIONS = {
    ("/v1.0/providers", "get"): "ProviderList",
    ("/v1.0/providers", "post"): "Provider",
    ("/v1.0/providers/{id}", "get"): "Provider",
    ("/v1.0/providers/{id}", "put"): "Provider",
    ("/v1.0/providers/{id}", "delete"): "Provider",
}


async def test_openapi_document(http: aiohttp.ClientSession) -> None:
    # Public: no credentials needed to read the contract.
    async with http.get("/openapi.json") as resp:
        assert resp.status == 200
        document: dict[str, Any] = await resp.json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    for (path, method), response in PROVIDER_OPERATIONS.items():
        op = document["paths"][path][method]
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{response}"
        assert {"400", "401", "403"} <= set(op["responses"])
        assert op["security"], (path, method)
    assert "post" in document["paths"]["/auth/login"]
    assert document["paths"]["/auth/login"]["post"]["security"] == []
    post = document["paths"]["/v1.0/providers"]["post"]["requestBody"]
    assert post["content"]["application/json"]["schema"]["$ref"].endswith("/ProviderCreate")
    put = document["paths"]["/v1.0/providers/{id}"]["put"]["requestBody"]
    assert put["content"]["application/json"]["schema"]["$ref"].endswith("/ProviderUpdate")
    params = {p["name"] for p in document["paths"]["/v1.0/providers"]["get"]["parameters"]}
    assert params == {"page_size", "page_token"}
    for name in ("Provider", "ProviderCreate", "ProviderUpdate", "ProviderList", "ErrorBody"):
        assert name in schemas
    assert schemas["ProviderCreate"]["properties"]["type"]["const"] == "sip"


async def test_gateway_ops_endpoints(
    gateway: GatewayApp, http: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> None:
    async with http.get("/v1.0/providers?page_size=1", headers=admin_headers) as resp:
        assert resp.status == 200
    port = gateway.bound_ops_port
    assert port and port != gateway.port
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as ops:
        async with ops.get("/healthz") as resp:
            assert (resp.status, await resp.json()) == (200, {"status": "ok"})
        async with ops.get("/readyz") as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"
        async with ops.get("/metrics") as resp:
            assert resp.status == 200
            assert resp.content_type == "text/plain"
            metrics = await resp.text()
    assert 'http_requests_total{method="GET",route="/v1.0/providers",status="200"}' in metrics
    assert "rpc_client_call_seconds_bucket" in metrics


async def test_secrets_never_reach_the_logs(
    gateway: GatewayApp,
    http: aiohttp.ClientSession,
    admin_token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = AccountStore(gateway.sessions)
    key = await store.create_accesskey(ADMIN_USERNAME, "log-test", expire=timedelta(days=1))
    # Everything at DEBUG, into this test's captured stdout.
    configure_logging("tests", "DEBUG")
    try:
        async with http.post(
            "/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        ) as resp:
            assert resp.status == 200
            fresh_token = (await resp.json())["token"]
        async with http.post(
            "/auth/login", json={"username": ADMIN_USERNAME, "password": "Wrong-Passw0rd!"}
        ) as resp:
            assert resp.status == 401
        async with http.get("/v1.0/providers", params={"token": admin_token}) as resp:
            assert resp.status == 200
        async with http.get("/v1.0/providers", params={"accesskey": key}) as resp:
            assert resp.status == 200
        async with http.post(
            "/v1.0/providers", params={"accesskey": key}, json=provider_body()
        ) as resp:
            assert resp.status == 200
        async with http.get(
            "/v1.0/providers", headers={"Authorization": f"Bearer {fresh_token}"}
        ) as resp:
            assert resp.status == 200
        async with http.get("/v1.0/providers", headers={"Cookie": f"token={fresh_token}"}) as r:
            assert r.status == 200
        async with http.get("/v1.0/providers", params={"token": fresh_token + "x"}) as resp:
            assert resp.status == 401
        async with http.get("/v1.0/providers", params={"accesskey": key + "x"}) as resp:
            assert resp.status == 401
        out = capsys.readouterr()
    finally:
        with capsys.disabled():
            configure_logging("tests", "WARNING")
    logged = out.out + out.err
    lines = [json.loads(line) for line in out.out.splitlines() if line.startswith("{")]
    # The capture saw the requests (so the check below means something) ...
    assert sum(line.get("event") == "http_request" for line in lines) >= 9
    # ... and none of the secrets.
    for secret in (JWT_SECRET, ADMIN_PASSWORD, "Wrong-Passw0rd!", admin_token, fresh_token, key):
        assert secret not in logged
    signature = fresh_token.rsplit(".", 1)[-1]
    assert signature not in logged
