"""Rows for new calls and groupcalls, with ids derived from their parent's id.

Derived ids make a replayed create (a redelivered RPC) produce the same rows, which the
inserts then skip, instead of a second set of calls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.ids import NIL_UUID
from shared.timefmt import utcnow

from call_manager.calls import states
from call_manager.calls.attempts import Attempt
from call_manager.dialing.candidates import Candidates


def child_id(parent_id: str, label: str) -> str:
    return str(uuid.uuid5(uuid.UUID(parent_id), label))


@dataclass(frozen=True)
class CallTemplate:
    """What every call of one request shares (a ProviderCall, or a POST /calls whose
    `providercall_id` and `provider_id` are nil: each call has its own candidates)."""

    customer_id: str
    providercall_id: str
    provider_id: str
    flow_id: str
    source: dict[str, Any]
    anonymous: str
    actions: list[dict[str, Any]] = field(default_factory=list)

    def call_row(
        self,
        call_id: str,
        destination: dict[str, Any],
        replica_id: str,
        groupcall_id: str = NIL_UUID,
        owner: tuple[str, str | None] = ("", None),
        now: datetime | None = None,
        *,
        candidates: Candidates = Candidates(),
    ) -> dict[str, Any]:
        """Every column, so the row renders as the wire shape before it is stored. The
        call shows its first candidate's provider and attempt from the start (the
        controller begins that attempt at `tm_create`)."""
        stamp = now or utcnow()
        first = candidates.items[0] if candidates.items else None
        return {
            "id": call_id,
            "customer_id": self.customer_id,
            "owner_type": owner[0],
            "owner_id": owner[1] or NIL_UUID,
            "flow_id": self.flow_id,
            "type": "flow",
            "groupcall_id": groupcall_id,
            "providercall_id": self.providercall_id,
            "provider_id": first.provider_id if first is not None else self.provider_id,
            "source": self.source,
            "destination": destination,
            "status": states.DIALING,
            "direction": "outgoing",
            "anonymous": self.anonymous,
            "actions": self.actions,
            "metadata": {"route_provider_ids": candidates.provider_ids},
            "owner_replica": replica_id,
            "master_call_id": NIL_UUID,
            "hangup_by": "",
            "hangup_reason": "",
            "sip_status_code": 0,
            "tm_ringing": None,
            "tm_progressing": None,
            "tm_hangup": None,
            "tm_create": stamp,
            "tm_update": stamp,
            "tm_delete": None,
            "attempts": [Attempt.begin(first, stamp).wire()] if first is not None else [],
        }
