"""Providers in tests: request bodies, the seeds' shape, table snapshots, and the public API
as the admin uses it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.polling import eventually

# Exactly the fields of the seeds' Provider plus the carrier-edge ones (issue 9), no more,
# no fewer: in particular never `auth_password`.
PROVIDER_FIELDS = frozenset(
    {
        "transport",
        "auth_username",
        "auth_password_set",
        "register",
        "register_expires",
        "registration_status",
        "registration_reason",
        "registration_changed_at",
        "id",
        "type",
        "hostname",
        "tech_prefix",
        "tech_postfix",
        "tech_headers",
        "name",
        "detail",
        "metadata",
        "health_status",
        "health_checked_at",
        "tm_create",
        "tm_update",
        "tm_delete",
    }
)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")
NEVER = "9999-01-01 00:00:00.000000"


def provider_body(**override: Any) -> dict[str, Any]:
    """The seeds' create example, with a unique hostname so rows are easy to tell apart."""
    body: dict[str, Any] = {
        "type": "sip",
        "hostname": f"sip-{uuid.uuid4().hex[:12]}.example.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "name": "test domain",
        "detail": "test domain creation",
    }
    body.update(override)
    return body


def assert_provider_shape(provider: dict[str, Any], *, deleted: bool = False) -> None:
    assert set(provider) == PROVIDER_FIELDS, sorted(set(provider) ^ PROVIDER_FIELDS)
    assert str(uuid.UUID(provider["id"])) == provider["id"]
    assert provider["type"] == "sip"
    assert isinstance(provider["tech_headers"], dict)
    assert isinstance(provider["metadata"], dict)
    assert provider["health_status"] in ("unknown", "healthy", "unhealthy")
    checked = provider["health_checked_at"]
    assert checked is None or TIMESTAMP.match(checked)
    for field in ("tm_create", "tm_update", "tm_delete"):
        assert TIMESTAMP.match(provider[field]), (field, provider[field])
    assert (provider["tm_delete"] != NEVER) is deleted


async def providers_snapshot(engine: AsyncEngine) -> tuple[int, str]:
    """Row count and a digest of every column of every row of provider_manager.providers."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*), md5(coalesce(string_agg(p::text, '|' ORDER BY p.id), ''))"
                    " FROM provider_manager.providers p"
                )
            )
        ).one()
    return int(row[0]), str(row[1])


class ProviderApi:
    """Providers through the public API as the admin; `cleanup` deletes the ones a test made."""

    def __init__(self, http: aiohttp.ClientSession, headers: dict[str, str]) -> None:
        self._http = http
        self._headers = headers
        self.created: list[str] = []

    async def create(self, hostname: str, **fields: Any) -> dict[str, Any]:
        body = {"type": "sip", "hostname": hostname, "name": f"test-{uuid.uuid4().hex[:6]}"}
        body.update(fields)
        async with self._http.post("/v1.0/providers", json=body, headers=self._headers) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
        self.created.append(provider["id"])
        return provider

    async def get(self, provider_id: str) -> dict[str, Any]:
        async with self._http.get(f"/v1.0/providers/{provider_id}", headers=self._headers) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
            return provider

    async def update(self, provider_id: str, **fields: Any) -> dict[str, Any]:
        async with self._http.put(
            f"/v1.0/providers/{provider_id}", json=fields, headers=self._headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
            return provider

    async def delete(self, provider_id: str) -> dict[str, Any]:
        async with self._http.delete(
            f"/v1.0/providers/{provider_id}", headers=self._headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
            return provider

    async def health_checks(self, provider_id: str) -> list[dict[str, Any]]:
        async with self._http.get(
            f"/v1.0/providers/{provider_id}/health_checks", headers=self._headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            result: list[dict[str, Any]] = (await resp.json())["result"]
            return result

    async def wait_status(
        self, provider_id: str, status: str, timeout: float = 10.0
    ) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            provider = await self.get(provider_id)
            return provider if provider["health_status"] == status else None

        return await eventually(probe, timeout, message=f"provider {provider_id} {status}")

    async def cleanup(self) -> None:
        for provider_id in self.created:
            async with self._http.delete(
                f"/v1.0/providers/{provider_id}", headers=self._headers
            ) as resp:
                assert resp.status in (200, 404), await resp.text()
