"""Rendering stored rows into the seeds' wire shapes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.timefmt import render, render_or_never
from sqlalchemy import RowMapping


def provider_wire(row: RowMapping | Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "hostname": row["hostname"],
        "tech_prefix": row["tech_prefix"],
        "tech_postfix": row["tech_postfix"],
        "tech_headers": row["tech_headers"],
        "name": row["name"],
        "detail": row["detail"],
        "metadata": row["metadata"],
        "health_status": row["health_status"],
        "health_checked_at": render(row["health_checked_at"]),
        "transport": row["transport"],
        "auth_username": row["auth_username"],
        # Whether one is stored; the password itself never leaves provider-manager here.
        "auth_password_set": row["auth_password_enc"] is not None,
        "register": row["register"],
        "register_expires": row["register_expires"],
        "registration_status": row["registration_status"],
        "registration_reason": row["registration_reason"],
        "registration_changed_at": render(row["registration_changed_at"]),
        "tm_create": render(row["tm_create"]),
        "tm_update": render(row["tm_update"]),
        "tm_delete": render_or_never(row["tm_delete"]),
    }


def route_wire(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "name": row["name"],
        "detail": row["detail"],
        "provider_id": row["provider_id"],
        "priority": row["priority"],
        "target": row["target"],
        "tm_create": render(row["tm_create"]),
        "tm_update": render(row["tm_update"]),
        # Same convention as providers (and VoIPbin's routes): the 9999 sentinel while active.
        "tm_delete": render_or_never(row["tm_delete"]),
    }
