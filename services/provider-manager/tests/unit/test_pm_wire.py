"""provider-manager pure logic: the route table and the seeds' rendering."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

import pytest
from provider_manager.models import provider_wire
from provider_manager.rpc import build_router
from shared.errors import AppError
from shared.rpc import RpcContext
from sqlalchemy import RowMapping
from sqlalchemy.engine.result import result_tuple


class _AnyHandlers:
    """Stands in for any handler group: every attribute is a handler."""

    def __getattr__(self, _name: str) -> Any:
        async def handler(_ctx: RpcContext) -> None:
            return None

        return handler


def test_routes() -> None:
    # Handlers are only referenced, never called, here; other resources' handler groups
    # join the signature over time, so pass a placeholder for each.
    groups = inspect.signature(build_router).parameters
    placeholders: dict[str, Any] = {name: _AnyHandlers() for name in groups}
    router = build_router(**placeholders)
    table = {(r.method, r.template) for r in router.routes}
    assert table >= {
        ("GET", "/v1/providers"),
        ("POST", "/v1/providers"),
        ("GET", "/v1/providers/{id}"),
        ("PUT", "/v1/providers/{id}"),
        ("DELETE", "/v1/providers/{id}"),
    }
    with pytest.raises(AppError) as caught:
        router.resolve("PATCH", "/v1/providers")
    assert caught.value.http_status == 405
    with pytest.raises(AppError) as caught:
        router.resolve("GET", "/v1/no-such-resource")
    assert caught.value.http_status == 404


def _row(**values: Any) -> RowMapping:
    keys = tuple(values)
    return result_tuple(list(keys))(tuple(values.values()))._mapping


def _stored(**override: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "4dbeabd6-f397-4375-95d2-a38411e07ed1",
        "type": "sip",
        "hostname": "sip.telnyx.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "name": "telnyx basic",
        "detail": "telnyx basic",
        "metadata": {},
        "health_status": "unknown",
        "health_checked_at": None,
        "transport": "",
        "auth_username": "",
        "auth_password_enc": "v1.0badc0de.c2VhbGVk",
        "register": False,
        "register_expires": 3600,
        "registration_status": "unregistered",
        "registration_reason": "",
        "registration_changed_at": None,
        "tm_create": datetime(2022, 10, 22, 16, 16, 16, 874761, tzinfo=UTC),
        "tm_update": datetime(2022, 10, 24, 4, 53, 14, 171374, tzinfo=UTC),
        "tm_delete": None,
    }
    row.update(override)
    return row


def test_active_provider_renders_like_the_seeds() -> None:
    assert provider_wire(_row(**_stored())) == {
        "id": "4dbeabd6-f397-4375-95d2-a38411e07ed1",
        "type": "sip",
        "hostname": "sip.telnyx.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "name": "telnyx basic",
        "detail": "telnyx basic",
        "metadata": {},
        "health_status": "unknown",
        "health_checked_at": None,
        "transport": "",
        "auth_username": "",
        "auth_password_set": True,  # the sealed value itself is never rendered
        "register": False,
        "register_expires": 3600,
        "registration_status": "unregistered",
        "registration_reason": "",
        "registration_changed_at": None,
        "tm_create": "2022-10-22 16:16:16.874761",
        "tm_update": "2022-10-24 04:53:14.171374",
        "tm_delete": "9999-01-01 00:00:00.000000",
    }


def test_deleted_and_checked_provider() -> None:
    wire = provider_wire(
        _row(
            **_stored(
                health_status="healthy",
                health_checked_at=datetime(2026, 4, 20, 3, 15, tzinfo=UTC),
                tm_delete=datetime(2026, 4, 21, 0, 0, 0, 1, tzinfo=UTC),
            )
        )
    )
    assert wire["health_checked_at"] == "2026-04-20 03:15:00.000000"
    assert wire["tm_delete"] == "2026-04-21 00:00:00.000001"
