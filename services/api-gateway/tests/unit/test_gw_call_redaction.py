"""Customers see attempts' outcomes, never the carriers behind them."""

from __future__ import annotations

from typing import Any

from api_gateway.accounts import Identity
from api_gateway.permissions import Permission
from api_gateway.views.call_redaction import redact_calls

NIL = "00000000-0000-0000-0000-000000000000"
CALL: dict[str, Any] = {
    "id": "c1",
    "provider_id": "p1",
    "metadata": {"route_provider_ids": ["p1", "p2"], "other": 1},
    "attempts": [
        {
            "provider_id": "p1",
            "route_id": "r1",
            "request_uri": "sip:99+1212@carrier.example",
            "sip_status_code": 486,
        }
    ],
}


def _who(permission: Permission) -> Identity:
    return Identity("a", "cust", "u", permission, "token")


def test_customers_see_outcomes_only() -> None:
    seen = redact_calls(_who(Permission.CUSTOMER_ADMIN), CALL, "call")
    assert seen["provider_id"] == NIL and seen["metadata"] == {"other": 1}
    [attempt] = seen["attempts"]
    assert (attempt["provider_id"], attempt["route_id"], attempt["request_uri"]) == (NIL, NIL, "")
    assert attempt["sip_status_code"] == 486
    listed = redact_calls(_who(Permission.CUSTOMER_MANAGER), {"result": [CALL]}, "list")
    assert listed["result"][0]["attempts"][0]["request_uri"] == ""
    created = redact_calls(
        _who(Permission.CUSTOMER_ADMIN), {"calls": [CALL], "groupcalls": []}, "created"
    )
    assert created["calls"][0]["provider_id"] == NIL
    assert CALL["provider_id"] == "p1"  # the input is not changed


def test_project_super_admins_see_everything() -> None:
    admin = _who(Permission.PROJECT_SUPER_ADMIN | Permission.CUSTOMER_ADMIN)
    assert redact_calls(admin, CALL, "call") is CALL
