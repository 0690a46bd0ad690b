"""Turning a request's destinations into call and groupcall rows, stored in one transaction
and then handed to `call_manager.live` to dial: shared by ProviderCalls (one forced
provider) and POST /calls (dial routes).

The two differ only in how an address's candidates are chosen (`CandidateChooser`). Ids
derive from the request's id (`child_id`), so a replayed create yields the same rows, which
the inserts then skip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.contracts.calls import Address
from shared.ids import NIL_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from call_manager.dialing.candidates import Candidates
from call_manager.models import call_wire, groupcall_wire
from call_manager.planning.template import CallTemplate, child_id
from call_manager.repositories.calls import CallRepository
from call_manager.repositories.groupcalls import GroupcallRepository
from call_manager.services.destinations import DestinationError, DestinationResolver, GroupPlan

Row = dict[str, Any]
# How one tel/sip address is dialed; never raises (an empty Candidates says why).
CandidateChooser = Callable[[dict[str, Any]], Candidates]
GROUP_TYPES = ("agent", "extension")


def lone_call_id(parent_id: str, index: int) -> str:
    return child_id(parent_id, str(index))


def groupcall_id(parent_id: str, index: int) -> str:
    return child_id(parent_id, f"group:{index}")


@dataclass(frozen=True)
class PlannedGroup:
    """A groupcall as planned: how each of its addresses is dialed, decided at creation
    (a linear groupcall's later turns use the same snapshot)."""

    id: str
    template: CallTemplate
    ring_method: str
    addresses: list[dict[str, str]]
    candidates: list[Candidates]  # same order as `addresses`
    owner: tuple[str, str | None]


@dataclass
class CallPlan:
    lone: list[tuple[Row, Candidates]] = field(default_factory=list)  # tel/sip destinations
    group_rows: list[Row] = field(default_factory=list)
    groups: list[tuple[PlannedGroup, list[Row]]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)  # FailedDestination shapes
    unrouted: list[int] = field(default_factory=list)  # failed for want of a dial route

    @property
    def lone_rows(self) -> list[Row]:
        return [row for row, _ in self.lone]

    @property
    def call_rows(self) -> list[Row]:
        """Every call row to insert: lone calls, then each groupcall's first calls."""
        return self.lone_rows + [row for _, rows in self.groups for row in rows]

    @property
    def empty(self) -> bool:
        return not self.lone and not self.group_rows


async def resolve_groups(
    destinations: Sequence[Address], resolver: DestinationResolver, customer_id: str
) -> dict[int, GroupPlan | DestinationError]:
    """agent/extension destinations -> their addresses, looked up concurrently."""
    indexes = [i for i, d in enumerate(destinations) if d.type in GROUP_TYPES]
    outcomes = await asyncio.gather(
        *(resolver.resolve(destinations[i].model_dump(), customer_id) for i in indexes),
        return_exceptions=True,
    )
    resolved: dict[int, GroupPlan | DestinationError] = {}
    for index, outcome in zip(indexes, outcomes, strict=True):
        if isinstance(outcome, BaseException) and not isinstance(outcome, DestinationError):
            raise outcome
        resolved[index] = outcome
    return resolved


def build_plan(
    parent_id: str,
    destinations: Sequence[Address],
    template: CallTemplate,
    groups: dict[int, GroupPlan | DestinationError],
    choose: CandidateChooser,
    replica_id: str,
    now: datetime,
) -> CallPlan:
    """A lone destination without candidates is a failed destination; a group address
    without any becomes a call that fails at once (its siblings still ring)."""
    plan = CallPlan()
    for index, destination in enumerate(destinations):
        address = destination.model_dump()
        if index not in groups:
            candidates = choose(address)
            if not candidates.items:
                plan.failed.append(
                    {"index": index, "destination": address, "reason": candidates.problem}
                )
                if candidates.no_route:
                    plan.unrouted.append(index)
                continue
            call_id = lone_call_id(parent_id, index)
            row = template.call_row(call_id, address, replica_id, now=now, candidates=candidates)
            plan.lone.append((row, candidates))
            continue
        outcome = groups[index]
        if isinstance(outcome, DestinationError):
            plan.failed.append({"index": index, "destination": address, "reason": str(outcome)})
            continue
        _add_group(plan, parent_id, template, index, address, outcome, choose, replica_id, now)
    return plan


def _add_group(
    plan: CallPlan,
    parent_id: str,
    template: CallTemplate,
    index: int,
    address: dict[str, Any],
    resolved: GroupPlan,
    choose: CandidateChooser,
    replica_id: str,
    now: datetime,
) -> None:
    group_id = groupcall_id(parent_id, index)
    owner = (resolved.owner_type, resolved.owner_id)
    candidates = [choose(target) for target in resolved.addresses]
    group = PlannedGroup(
        group_id, template, resolved.ring_method, resolved.addresses, candidates, owner
    )
    count = len(resolved.addresses) if resolved.ring_method == "ring_all" else 1
    rows = [
        template.call_row(
            child_id(group_id, str(i)),
            resolved.addresses[i],
            replica_id,
            group_id,
            owner,
            now,
            candidates=candidates[i],
        )
        for i in range(count)
    ]
    plan.group_rows.append(
        {
            "id": group_id,
            "customer_id": template.customer_id,
            "owner_type": resolved.owner_type,
            "owner_id": resolved.owner_id or NIL_UUID,
            "status": "progressing",
            "flow_id": template.flow_id,
            "providercall_id": template.providercall_id,
            "provider_id": template.provider_id,
            "source": template.source,
            "destination": address,
            "destinations": resolved.addresses,
            "ring_method": resolved.ring_method,
            "answer_method": "hangup_others",
            "answer_call_id": NIL_UUID,
            "anonymous": template.anonymous,
            "actions": template.actions,
            "call_ids": [row["id"] for row in rows],
            "call_count": len(rows),
            "dial_index": 0,
            "owner_replica": replica_id,
            "tm_create": now,
            "tm_update": now,
            "tm_delete": None,
        }
    )
    plan.groups.append((group, rows))


async def store_plan(session: AsyncSession, plan: CallPlan) -> list[tuple[str, Any]]:
    """Insert the rows (in the caller's transaction); returns their creation events."""
    await CallRepository(session).insert_many(plan.call_rows)
    await GroupcallRepository(session).insert_many(plan.group_rows)
    events: list[tuple[str, Any]] = [
        ("groupcall_created", groupcall_wire(g)) for g in plan.group_rows
    ]
    for call in plan.call_rows:
        wire = call_wire(call)
        events += [("call_created", wire), ("call_dialing", wire)]
    return events
