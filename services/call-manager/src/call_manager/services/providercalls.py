"""Creating a ProviderCall: one Call per tel/sip destination and one Groupcall per
agent/extension destination, all forced through one provider, persisted together with
their events in one transaction, then dialed by this replica.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.contracts.calls import ProviderCallCreate
from shared.errors import AppError, ErrorStatus
from shared.pagination import PageCursor
from shared.timefmt import utcnow
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.dialing.invite import InviteError, ProviderRoute
from call_manager.dialing.leg import InviteSpec
from call_manager.events import add_events
from call_manager.models import call_wire, groupcall_wire, providercall_wire
from call_manager.repositories.calls import CallRepository
from call_manager.repositories.groupcalls import GroupcallRepository
from call_manager.repositories.idempotency import DONE, IdempotencyRepository
from call_manager.repositories.paging import page_reply
from call_manager.repositories.providercalls import ProviderCallRepository
from call_manager.services.destinations import DestinationError, DestinationResolver, GroupPlan
from call_manager.services.plans import NIL_UUID, CallTemplate, GroupState, child_id
from call_manager.services.providers import ProviderLookup
from call_manager.services.runtime import CallRuntime

Wire = dict[str, Any]
# A pending key older than this belongs to a request that died; a retry may take it over.
STALE_CLAIM = timedelta(seconds=60)


def request_hash(body: ProviderCallCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class _Plan:
    call_rows: list[dict[str, Any]]
    group_rows: list[dict[str, Any]]
    groups: list[tuple[GroupState, list[dict[str, Any]]]]
    failed: list[dict[str, Any]]
    specs: dict[str, InviteSpec] = field(default_factory=dict)


class ProviderCallService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake: Any,
        providers: ProviderLookup,
        destinations: DestinationResolver,
        runtime: CallRuntime,
        idempotency_wait: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._wake = wake
        self._providers = providers
        self._destinations = destinations
        self._runtime = runtime
        self._idempotency_wait = idempotency_wait

    # -- create -------------------------------------------------------------------------

    async def create(
        self,
        providercall_id: str,
        customer_id: str,
        body: ProviderCallCreate,
        idempotency_key: str | None,
    ) -> Wire:
        if idempotency_key:
            earlier = await self._claim(customer_id, idempotency_key, body, providercall_id)
            if earlier is not None:
                return earlier
        try:
            return await self._create(providercall_id, customer_id, body, idempotency_key)
        except BaseException:
            if idempotency_key:
                async with self._sessions() as session, session.begin():
                    await IdempotencyRepository(session).release(customer_id, idempotency_key)
            raise

    async def _claim(
        self, customer_id: str, key: str, body: ProviderCallCreate, providercall_id: str
    ) -> Wire | None:
        """None when this request holds the key; the first result when another did."""
        digest = request_hash(body)
        deadline = time.monotonic() + self._idempotency_wait
        while True:
            async with self._sessions() as session, session.begin():
                repo = IdempotencyRepository(session)
                if await repo.claim(customer_id, key, digest, providercall_id) is not None:
                    return None
                found = await repo.find(customer_id, key)
                if found is None:
                    continue  # released meanwhile: claim again
                if found["request_hash"] != digest:
                    raise AppError(
                        ErrorStatus.UNPROCESSABLE,
                        "IDEMPOTENCY_KEY_REUSED",
                        "this Idempotency-Key was used with a different request body",
                    )
                if found["state"] == DONE:
                    row = await ProviderCallRepository(session).find(found["providercall_id"])
                    if row is not None:
                        return providercall_wire(row)
                if await repo.take_over_stale(customer_id, key, STALE_CLAIM, providercall_id):
                    return None
            if time.monotonic() > deadline:
                raise AppError(
                    ErrorStatus.FAILED_PRECONDITION,
                    "IDEMPOTENCY_IN_PROGRESS",
                    "a request with this Idempotency-Key is still being processed; retry later",
                )
            await asyncio.sleep(0.05)

    async def _create(
        self,
        providercall_id: str,
        customer_id: str,
        body: ProviderCallCreate,
        idempotency_key: str | None,
    ) -> Wire:
        async with self._sessions() as session:
            replay = await ProviderCallRepository(session).find(providercall_id)
        if replay is not None:
            return providercall_wire(replay)  # a redelivered request: dialed already
        provider = await self._providers.get_active(body.provider_id)
        route = ProviderRoute.from_wire(provider)
        source = body.source.model_dump()
        template = CallTemplate(
            customer_id=customer_id,
            providercall_id=providercall_id,
            provider_id=body.provider_id,
            flow_id=body.flow_id,
            source=source,
            anonymous=body.anonymous,
            actions=[a.model_dump() for a in body.actions],
        )
        plan = await self._plan(body, template, route)
        if not plan.call_rows and not plan.group_rows:
            raise AppError(
                ErrorStatus.UNPROCESSABLE,
                "NO_DESTINATION_DIALABLE",
                "none of the destinations can be called",
                {"failed_destinations": plan.failed},
            )
        lone_calls = [row for row in plan.call_rows if row["groupcall_id"] == NIL_UUID]
        values = {
            "id": providercall_id,
            "customer_id": customer_id,
            "provider_id": body.provider_id,
            "flow_id": body.flow_id,
            "source": source,
            "destinations": [d.model_dump() for d in body.destinations],
            "anonymous": body.anonymous,
            "actions": template.actions,
            "call_ids": [row["id"] for row in lone_calls],
            "groupcall_ids": [row["id"] for row in plan.group_rows],
            "failed_destinations": plan.failed,
        }
        async with self._sessions() as session, session.begin():
            row = await ProviderCallRepository(session).insert(values)
            if row is None:
                stored = await ProviderCallRepository(session).get(providercall_id)
                return providercall_wire(stored)
            await CallRepository(session).insert_many(plan.call_rows)
            await GroupcallRepository(session).insert_many(plan.group_rows)
            wire = providercall_wire(row)
            events: list[tuple[str, Any]] = [("providercall_created", wire)]
            events += [("groupcall_created", groupcall_wire(g)) for g in plan.group_rows]
            for call in plan.call_rows:
                call_data = call_wire(call)
                events += [("call_created", call_data), ("call_dialing", call_data)]
            await add_events(session, events)
            if idempotency_key:
                await IdempotencyRepository(session).complete(customer_id, idempotency_key)
        for call_row in lone_calls:
            self._runtime.start_call(call_row, route, template, spec=plan.specs[call_row["id"]])
        for group, first_rows in plan.groups:
            self._runtime.start_group(group, first_rows)
        # After the calls: their INVITEs go out before the relay publishes the events.
        self._wake()
        return wire

    async def _plan(
        self, body: ProviderCallCreate, template: CallTemplate, route: ProviderRoute
    ) -> _Plan:
        replica = self._runtime.replica_id
        now = utcnow()
        plan = _Plan([], [], [], [])
        group_indexes = [
            i for i, d in enumerate(body.destinations) if d.type in ("agent", "extension")
        ]
        resolved = await asyncio.gather(
            *(
                self._destinations.resolve(body.destinations[i].model_dump(), template.customer_id)
                for i in group_indexes
            ),
            return_exceptions=True,
        )
        groups_by_index = dict(zip(group_indexes, resolved, strict=True))
        for index, destination in enumerate(body.destinations):
            address = destination.model_dump()
            if index not in groups_by_index:
                try:
                    spec = self._runtime.invite_for(route, template, address)
                except InviteError as exc:
                    plan.failed.append({"index": index, "destination": address, "reason": str(exc)})
                    continue
                call_id = child_id(template.providercall_id, str(index))
                plan.specs[call_id] = spec
                plan.call_rows.append(template.call_row(call_id, address, replica, now=now))
                continue
            outcome = groups_by_index[index]
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, DestinationError):
                    raise outcome
                plan.failed.append({"index": index, "destination": address, "reason": str(outcome)})
                continue
            self._add_group(plan, template, route, index, address, outcome, now)
        return plan

    def _add_group(
        self,
        plan: _Plan,
        template: CallTemplate,
        route: ProviderRoute,
        index: int,
        address: dict[str, Any],
        resolved: GroupPlan,
        now: datetime,
    ) -> None:
        replica = self._runtime.replica_id
        groupcall_id = child_id(template.providercall_id, f"group:{index}")
        owner = (resolved.owner_type, resolved.owner_id)
        group = GroupState(
            groupcall_id, template, route, resolved.ring_method, resolved.addresses, owner
        )
        targets = (
            resolved.addresses if resolved.ring_method == "ring_all" else resolved.addresses[:1]
        )
        rows = [
            template.call_row(
                child_id(groupcall_id, str(i)), target, replica, groupcall_id, owner, now
            )
            for i, target in enumerate(targets)
        ]
        plan.call_rows += rows
        plan.group_rows.append(
            {
                "id": groupcall_id,
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
                "owner_replica": replica,
                "tm_create": now,
                "tm_update": now,
                "tm_delete": None,
            }
        )
        plan.groups.append((group, rows))

    # -- read and delete ------------------------------------------------------------------

    async def get(self, providercall_id: str, customer_id: str | None) -> Wire:
        async with self._sessions() as session:
            row = await ProviderCallRepository(session).get(providercall_id, customer_id)
        return providercall_wire(row)

    async def list(
        self,
        page_size: int,
        cursor: PageCursor | None,
        customer_id: str | None,
        provider_id: str | None,
    ) -> Wire:
        async with self._sessions() as session:
            rows = await ProviderCallRepository(session).page(
                page_size, cursor, customer_id, provider_id
            )
        return page_reply(rows, page_size, providercall_wire)

    async def delete(self, providercall_id: str, customer_id: str | None) -> Wire:
        async with self._sessions() as session, session.begin():
            row = await ProviderCallRepository(session).soft_delete(providercall_id, customer_id)
            wire = providercall_wire(row)
            await add_events(session, [("providercall_deleted", wire)])
        self._wake()
        return wire
