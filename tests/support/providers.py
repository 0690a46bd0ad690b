"""Helpers for provider tests: request bodies, the seeds' shape, and table snapshots."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

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
