"""Rendering stored rows into wire shapes (shared.contracts.health)."""

from __future__ import annotations

from typing import Any

from shared.timefmt import render
from sqlalchemy import RowMapping


def health_check_wire(row: RowMapping) -> dict[str, Any]:
    return {
        "checked_at": render(row["checked_at"]),
        "hostname": row["hostname"],
        "address": row["address"],
        "outcome": row["outcome"],
        "status_code": row["status_code"],
        "reason": row["reason"],
        "rtt_ms": None if row["rtt_ms"] is None else round(row["rtt_ms"], 3),
        "error": row["error"],
    }
