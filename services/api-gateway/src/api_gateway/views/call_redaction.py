"""What customers see of their calls: the outcome of every attempt, not the carriers.

A call's attempts name the provider, the dial route and the Request-URI sent (carrier host,
tech prefix and postfix): exactly what a customer would need to dial the carrier directly,
bypassing routes and billing. Only project super admins see them; for everyone else the
provider and route ids read as the nil UUID and the Request-URI as "", and the call's
metadata loses `route_provider_ids`. The shape stays the same, so clients need no second
model.
"""

from __future__ import annotations

from typing import Any

from shared.ids import NIL_UUID

from api_gateway.accounts import Identity
from api_gateway.permissions import Permission


def _call(call: Any) -> Any:
    if not isinstance(call, dict):
        return call
    out = {**call}
    if "provider_id" in out:
        out["provider_id"] = NIL_UUID
    metadata = out.get("metadata")
    if isinstance(metadata, dict) and "route_provider_ids" in metadata:
        out["metadata"] = {k: v for k, v in metadata.items() if k != "route_provider_ids"}
    attempts = out.get("attempts")
    if isinstance(attempts, list):
        out["attempts"] = [
            {**a, "provider_id": NIL_UUID, "route_id": NIL_UUID, "request_uri": ""}
            if isinstance(a, dict)
            else a
            for a in attempts
        ]
    return out


def redact_calls(identity: Identity, payload: Any, shape: str) -> Any:
    """`payload` as `identity` may see it. `shape`: "call", "groupcall" (one record),
    "list" (`{"result": [...]}`) or "created" (`{"calls": [...], "groupcalls": [...]}`)."""
    if identity.has(Permission.PROJECT_SUPER_ADMIN) or not isinstance(payload, dict):
        return payload
    if shape in ("call", "groupcall"):
        return _call(payload)
    if shape == "list":
        return {**payload, "result": [_call(item) for item in payload.get("result") or []]}
    return {
        **payload,
        "calls": [_call(item) for item in payload.get("calls") or []],
        "groupcalls": [_call(item) for item in payload.get("groupcalls") or []],
    }
