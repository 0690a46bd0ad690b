"""Rendering stored rows into the wire shapes (shared.contracts.calls)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.timefmt import render

# A stored row, or a row about to be stored (creates render events without reading back).
Row = Mapping[Any, Any]


def _times(row: Row) -> dict[str, Any]:
    return {
        "tm_create": render(row["tm_create"]),
        "tm_update": render(row["tm_update"]),
        # ProviderCall, Call and Groupcall render "not deleted" as null (seeds).
        "tm_delete": render(row["tm_delete"]),
    }


def providercall_wire(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "provider_id": row["provider_id"],
        "flow_id": row["flow_id"],
        "source": row["source"],
        "destinations": row["destinations"],
        "anonymous": row["anonymous"],
        "call_ids": row["call_ids"],
        "groupcall_ids": row["groupcall_ids"],
        "failed_destinations": row["failed_destinations"],
        **_times(row),
    }


def call_wire(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "owner_type": row["owner_type"],
        "owner_id": row["owner_id"],
        "flow_id": row["flow_id"],
        "type": row["type"],
        "master_call_id": row["master_call_id"],
        "groupcall_id": row["groupcall_id"],
        "providercall_id": row["providercall_id"],
        "provider_id": row["provider_id"],
        "source": row["source"],
        "destination": row["destination"],
        "status": row["status"],
        "direction": row["direction"],
        "anonymous": row["anonymous"],
        "actions": row["actions"],
        "metadata": row["metadata"],
        "hangup_by": row["hangup_by"],
        "hangup_reason": row["hangup_reason"],
        "sip_status_code": row["sip_status_code"],
        "tm_ringing": render(row["tm_ringing"]),
        "tm_progressing": render(row["tm_progressing"]),
        "tm_hangup": render(row["tm_hangup"]),
        **_times(row),
        "attempts": row["attempts"],
    }


def groupcall_wire(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "owner_type": row["owner_type"],
        "owner_id": row["owner_id"],
        "status": row["status"],
        "flow_id": row["flow_id"],
        "providercall_id": row["providercall_id"],
        "provider_id": row["provider_id"],
        "source": row["source"],
        "destination": row["destination"],
        "destinations": row["destinations"],
        "ring_method": row["ring_method"],
        "answer_method": row["answer_method"],
        "anonymous": row["anonymous"],
        "answer_call_id": row["answer_call_id"],
        "call_ids": row["call_ids"],
        "call_count": row["call_count"],
        "dial_index": row["dial_index"],
        **_times(row),
    }
