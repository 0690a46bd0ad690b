"""Creating a ProviderCall: one Call per tel/sip destination and one Groupcall per
agent/extension destination, all forced through one provider, persisted together with
their events in one transaction, then dialed by this replica.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.contracts.calls import ANONYMOUS_SOURCE, ProviderCallCreate
from shared.errors import AppError, ErrorStatus
from shared.events import after_commit, publishing
from shared.pagination import PageCursor
from shared.timefmt import utcnow
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.dialing.invite import ProviderRoute
from call_manager.events import add_events
from call_manager.live.registry import LiveCalls
from call_manager.models import providercall_wire
from call_manager.planning.candidates import CandidateFactory
from call_manager.planning.plan import build_plan, resolve_groups, store_plan
from call_manager.planning.template import CallTemplate
from call_manager.repositories.paging import page_reply
from call_manager.repositories.providercalls import ProviderCallRepository
from call_manager.services.destinations import DestinationResolver
from call_manager.services.idempotency import IdempotencyClaims, request_hash
from call_manager.services.providers import ProviderLookup

Wire = dict[str, Any]


async def _stored_providercall(session: AsyncSession, providercall_id: str) -> Wire | None:
    row = await ProviderCallRepository(session).find(providercall_id)
    return providercall_wire(row) if row is not None else None


class ProviderCallService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake: Callable[[], None],
        providers: ProviderLookup,
        destinations: DestinationResolver,
        candidates: CandidateFactory,
        live: LiveCalls,
        idempotency_wait: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._wake = wake
        self._providers = providers
        self._destinations = destinations
        self._candidates = candidates
        self._live = live
        self._keys = IdempotencyClaims(sessions, idempotency_wait)

    # -- create -------------------------------------------------------------------------

    async def create(
        self,
        providercall_id: str,
        customer_id: str,
        body: ProviderCallCreate,
        idempotency_key: str | None,
    ) -> Wire:
        if idempotency_key:
            earlier = await self._keys.claim(
                customer_id,
                idempotency_key,
                request_hash(body),
                providercall_id,
                _stored_providercall,
            )
            if earlier is not None:
                return dict(earlier)
        try:
            return await self._create(providercall_id, customer_id, body, idempotency_key)
        except BaseException:
            if idempotency_key:
                await self._keys.release(customer_id, idempotency_key)
            raise

    async def _create(
        self,
        providercall_id: str,
        customer_id: str,
        body: ProviderCallCreate,
        idempotency_key: str | None,
    ) -> Wire:
        async with self._sessions() as session:
            replay = await _stored_providercall(session, providercall_id)
        if replay is not None:
            return replay  # a redelivered request: dialed already
        provider = await self._providers.get_active(body.provider_id)
        route = ProviderRoute.from_wire(provider)
        # Without a source the record keeps null and the calls go out anonymous.
        source = body.source.model_dump() if body.source is not None else None
        template = CallTemplate(
            customer_id=customer_id,
            providercall_id=providercall_id,
            provider_id=body.provider_id,
            flow_id=body.flow_id,
            source=source or dict(ANONYMOUS_SOURCE),
            anonymous=body.anonymous,
            actions=[a.model_dump() for a in body.actions],
        )
        groups = await resolve_groups(body.destinations, self._destinations, customer_id)
        plan = build_plan(
            providercall_id,
            body.destinations,
            template,
            groups,
            lambda address: self._candidates.forced(route, template, address),
            self._live.replica_id,
            utcnow(),
        )
        if plan.empty:
            raise AppError(
                ErrorStatus.UNPROCESSABLE,
                "NO_DESTINATION_DIALABLE",
                "none of the destinations can be called",
                {"failed_destinations": plan.failed},
            )
        values = {
            "id": providercall_id,
            "customer_id": customer_id,
            "provider_id": body.provider_id,
            "flow_id": body.flow_id,
            "source": source,
            "destinations": [d.model_dump() for d in body.destinations],
            "anonymous": body.anonymous,
            "actions": template.actions,
            "call_ids": [row["id"] for row in plan.lone_rows],
            "groupcall_ids": [row["id"] for row in plan.group_rows],
            "failed_destinations": plan.failed,
        }
        async with publishing(self._sessions, self._wake) as session:
            row = await ProviderCallRepository(session).insert(values)
            if row is None:
                stored = await ProviderCallRepository(session).get(providercall_id)
                return providercall_wire(stored)
            wire = providercall_wire(row)
            events: list[tuple[str, Any]] = [("providercall_created", wire)]
            events += await store_plan(session, plan)
            await add_events(session, events)
            if idempotency_key:
                await self._keys.complete(session, customer_id, idempotency_key)
            # The calls start before the relay wakes: their INVITEs go out before the
            # events that announce them are published.
            after_commit(session, lambda: self._live.start_plan(plan, template))
        return wire

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
        async with publishing(self._sessions, self._wake) as session:
            row = await ProviderCallRepository(session).soft_delete(providercall_id, customer_id)
            wire = providercall_wire(row)
            await add_events(session, [("providercall_deleted", wire)])
        return wire
