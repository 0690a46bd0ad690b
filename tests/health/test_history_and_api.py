"""What operators and API clients see: the probe history (RPC and gateway), the read-only
health fields, and the OpenAPI document."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
from api_gateway.accounts import AccountStore
from api_gateway.app import GatewayApp
from api_gateway.permissions import Permission
from health_checker.app import HealthCheckerApp
from health_checker.probes import ProbeReport
from health_checker.records import CheckedTarget, ProviderRecord, Target
from health_checker.repositories.targets import TargetRepository
from health_checker.services.history import HistoryService
from shared.pagination import parse_page_token
from shared.rpc import RpcClient
from shared.sip.testing.udp_peers import SilentPeer, SipResponder
from shared.timefmt import render, utcnow

from tests.support.polling import eventually
from tests.support.providers import ProviderApi

StartPeer = Callable[..., Awaitable[SipResponder | SilentPeer]]


async def test_history_newest_first_over_rpc_and_at_the_gateway(
    health_checker: HealthCheckerApp,
    providers: ProviderApi,
    peers: StartPeer,
    rpc: RpcClient,
    queues: dict[str, str],
) -> None:
    carrier = await peers()
    created = await providers.create(carrier.target)

    async def three_checks() -> list[dict[str, Any]] | None:
        checks = await providers.health_checks(created["id"])
        return checks if len(checks) >= 3 else None

    checks = await eventually(three_checks, 20.0, message="three checks")
    stamps = [c["checked_at"] for c in checks]
    assert stamps == sorted(stamps, reverse=True)
    assert set(checks[0]) == {
        "checked_at",
        "hostname",
        "address",
        "outcome",
        "status_code",
        "reason",
        "rtt_ms",
        "error",
    }

    over_rpc = await rpc.request(
        queues["health-checker"], "GET", f"/v1/providers/{created['id']}/health_checks"
    )
    rpc_checks = over_rpc["result"]
    assert len(rpc_checks) >= len(checks)
    assert rpc_checks[0]["checked_at"] >= checks[0]["checked_at"]
    assert checks[-1] in rpc_checks


async def test_history_keeps_the_last_100(health_checker: HealthCheckerApp) -> None:
    provider_id = str(uuid.uuid4())
    target = Target(provider_id, "ring.example.com")
    start = utcnow()
    async with health_checker.sessions() as session, session.begin():
        # The target row is what hands out history slots; a tombstone is never probed.
        record = ProviderRecord(provider_id, target.hostname, start, deleted=True)
        await TargetRepository(session).tombstone([record])
    for i in range(105):
        report = ProbeReport(kind="healthy", status_code=200, reason=f"probe {i}", rtt_ms=1.0)
        async with health_checker.sessions() as session, session.begin():
            await TargetRepository(session).record(
                [CheckedTarget(target, report, start + timedelta(seconds=i))]
            )
    service = HistoryService(health_checker.sessions)
    history = await service.page(provider_id, 100, None)
    assert len(history["result"]) == 100
    assert history["result"][0]["reason"] == "probe 104"
    assert history["result"][-1]["reason"] == "probe 5"
    assert history["result"][0]["checked_at"] == render(start + timedelta(seconds=104))
    assert history["next_page_token"] == history["result"][-1]["checked_at"]

    # Pages of 40 walk the same 100 probes; the page after the last is empty with "".
    seen: list[str] = []
    cursor = None
    while True:
        page = await service.page(provider_id, 40, cursor)
        if not page["result"]:
            assert page["next_page_token"] == ""
            break
        seen += [check["reason"] for check in page["result"]]
        cursor = parse_page_token(page["next_page_token"])
    assert seen == [f"probe {i}" for i in range(104, 4, -1)]


async def test_the_gateway_endpoint_checks_permission_and_existence(
    health_checker: HealthCheckerApp,
    gateway: GatewayApp,
    http: aiohttp.ClientSession,
    admin_headers: dict[str, str],
) -> None:
    missing = str(uuid.uuid4())
    async with http.get(f"/v1.0/providers/{missing}/health_checks", headers=admin_headers) as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["reason"] == "PROVIDER_NOT_FOUND"
    async with http.get("/v1.0/providers/not-a-uuid/health_checks", headers=admin_headers) as resp:
        assert resp.status == 400
    async with http.get(f"/v1.0/providers/{missing}/health_checks") as resp:
        assert resp.status == 401

    store = AccountStore(gateway.sessions)
    name = f"customer-{uuid.uuid4().hex[:8]}"
    await store.create_account(name, "customer-password-123", Permission.CUSTOMER_ADMIN)
    async with http.post(
        "/auth/login", json={"username": name, "password": "customer-password-123"}
    ) as resp:
        token = (await resp.json())["token"]
    async with http.get(
        f"/v1.0/providers/{missing}/health_checks", headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        assert resp.status == 403


async def test_health_fields_are_read_only_through_the_api(
    providers: ProviderApi, http: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> None:
    created = await providers.create(
        "readonly.example.com",
        health_status="healthy",
        health_checked_at="2026-01-01 00:00:00.000000",
    )
    assert created["health_status"] == "unknown"
    assert created["health_checked_at"] is None

    updated = await providers.update(
        created["id"],
        name="renamed",
        health_status="unhealthy",
        health_checked_at="2026-01-01 00:00:00.000000",
    )
    assert updated["name"] == "renamed"
    assert updated["health_status"] == "unknown"
    assert updated["health_checked_at"] is None
    assert (await providers.get(created["id"]))["health_status"] == "unknown"


async def test_openapi_documents_the_health_checks_endpoint(http: aiohttp.ClientSession) -> None:
    async with http.get("/openapi.json") as resp:
        document = await resp.json()
    operation = document["paths"]["/v1.0/providers/{id}/health_checks"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/HealthCheckList")
    check = document["components"]["schemas"]["HealthCheck"]
    assert {"checked_at", "hostname", "address", "outcome", "status_code", "rtt_ms"} <= set(
        check["properties"]
    )
