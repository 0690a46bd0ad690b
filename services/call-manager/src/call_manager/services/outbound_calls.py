"""Creating ordinary outbound calls (POST /calls): the ProviderCall machinery (plan, derived
ids, one transaction, Idempotency-Key), with each tel address's providers chosen by its dial
routes instead of one forced provider.

- A tel address tries its dial routes' providers in order (failover on the same call), at
  most `max_attempts` of them. The routes are resolved once, at creation: a linear
  groupcall's later turns use that snapshot too.
- A sip address (`user@host`) has no number to route by: it is dialed directly at its host
  (RFC 3263 on the host), with one candidate and no provider (provider_id nil).
- All or nothing: when any tel/sip destination cannot be dialed nothing is created, and the
  answer says why: 422 NO_ROUTE when a number has no route, else 422
  DESTINATION_NOT_DIALABLE. So a replay (a redelivered request, or a retry with the same
  Idempotency-Key) can rebuild the first answer from the ids alone. Addresses inside an
  agent or extension without a route become calls that fail at once, as a ProviderCall's
  undialable group addresses do; their siblings still ring.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from shared.contracts.calls import CallCreate
from shared.contracts.routes import Dialroute
from shared.errors import AppError, ErrorStatus
from shared.events import after_commit, publishing
from shared.ids import NIL_UUID
from shared.timefmt import utcnow
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from call_manager.dialing.candidates import Candidates, DialCandidate
from call_manager.dialing.invite import InviteError, ProviderRoute
from call_manager.events import add_events
from call_manager.live.registry import LiveCalls
from call_manager.models import Row, call_wire, groupcall_wire
from call_manager.planning.candidates import CandidateFactory
from call_manager.planning.plan import (
    GROUP_TYPES,
    CallPlan,
    build_plan,
    groupcall_id,
    lone_call_id,
    resolve_groups,
    store_plan,
)
from call_manager.planning.template import CallTemplate
from call_manager.policy.guard import CallGuard
from call_manager.repositories.calls import CallRepository
from call_manager.repositories.groupcalls import GroupcallRepository
from call_manager.services.destinations import DestinationResolver, GroupPlan
from call_manager.services.dialroutes import DialrouteLookup, NoRoute
from call_manager.services.idempotency import IdempotencyClaims, request_hash

Wire = dict[str, Any]
Routes = dict[str, list[Dialroute] | NoRoute]
# Keeps an Idempotency-Key used for a ProviderCall from ever matching a POST /calls body.
HASH_SCOPE = "calls:"


def created_wire(calls: Sequence[Row], groupcalls: Sequence[Row]) -> Wire:
    """The CallCreateResult shape."""
    return {
        "calls": [call_wire(row) for row in calls],
        "groupcalls": [groupcall_wire(row) for row in groupcalls],
    }


def _refusal(plan: CallPlan) -> AppError:
    details = {"failed_destinations": plan.failed}
    if plan.unrouted:
        targets = ", ".join(
            str(f["destination"]["target"]) for f in plan.failed if f["index"] in plan.unrouted
        )
        return AppError(
            ErrorStatus.UNPROCESSABLE,
            "NO_ROUTE",
            f"no route for {targets}: neither your routes nor the default routes have a "
            "matching prefix or `all` route to an active provider; nothing was dialed",
            details,
        )
    return AppError(
        ErrorStatus.UNPROCESSABLE,
        "DESTINATION_NOT_DIALABLE",
        "some destinations cannot be called (see details.failed_destinations); nothing was dialed",
        details,
    )


class OutboundCallService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake: Callable[[], None],
        dialroutes: DialrouteLookup,
        destinations: DestinationResolver,
        candidates: CandidateFactory,
        live: LiveCalls,
        idempotency_wait: float = 5.0,
        max_attempts: int = 5,
        guard: CallGuard | None = None,
    ) -> None:
        """`guard`: caller ID, dial policy and fair share (call_manager.policy); None only
        in tests of the planning itself."""
        self._guard = guard
        self._sessions = sessions
        self._wake = wake
        self._dialroutes = dialroutes
        self._destinations = destinations
        self._candidate_factory = candidates
        self._live = live
        self._keys = IdempotencyClaims(sessions, idempotency_wait)
        self._max_attempts = max_attempts

    async def create(
        self, request_id: str, customer_id: str, body: CallCreate, idempotency_key: str | None
    ) -> Wire:
        async def stored(session: AsyncSession, first_request_id: str) -> Wire | None:
            return await self._stored(session, first_request_id, body)

        if idempotency_key:
            digest = request_hash(body, HASH_SCOPE)
            earlier = await self._keys.claim(
                customer_id, idempotency_key, digest, request_id, stored
            )
            if earlier is not None:
                return dict(earlier)
        try:
            return await self._create(request_id, customer_id, body, idempotency_key)
        except BaseException:
            if idempotency_key:
                await self._keys.release(customer_id, idempotency_key)
            raise

    async def _stored(
        self, session: AsyncSession, request_id: str, body: CallCreate
    ) -> Wire | None:
        """What an earlier run of this request created, found by the ids it derived."""
        kinds = [d.type in GROUP_TYPES for d in body.destinations]
        call_ids = [lone_call_id(request_id, i) for i, group in enumerate(kinds) if not group]
        group_ids = [groupcall_id(request_id, i) for i, group in enumerate(kinds) if group]
        calls = await CallRepository(session).find_many(call_ids)
        groups = await GroupcallRepository(session).find_many(group_ids)
        if not calls and not groups:
            return None
        return created_wire(calls, groups)

    async def _create(
        self, request_id: str, customer_id: str, body: CallCreate, idempotency_key: str | None
    ) -> Wire:
        async with self._sessions() as session:
            replay = await self._stored(session, request_id, body)
        if replay is not None:
            return replay  # a redelivered request: dialed already
        template = CallTemplate(
            customer_id=customer_id,
            providercall_id=NIL_UUID,
            provider_id=NIL_UUID,
            flow_id=body.flow_id,
            source=body.source.model_dump(),
            anonymous=body.anonymous,
            actions=[a.model_dump() for a in body.actions],
        )
        groups = await resolve_groups(body.destinations, self._destinations, customer_id)
        numbers = {d.target for d in body.destinations if d.type == "tel"}
        for outcome in groups.values():
            if isinstance(outcome, GroupPlan):
                numbers |= {a["target"] for a in outcome.addresses if a["type"] == "tel"}
        refused: dict[str, str] = {}
        if self._guard is not None:
            in_groups = [
                a for g in groups.values() if isinstance(g, GroupPlan) for a in g.addresses
            ]
            refused = await self._guard.refusals(customer_id, body, in_groups)
        routes = await self._resolve_routes(customer_id, numbers)
        plan = build_plan(
            request_id,
            body.destinations,
            template,
            groups,
            lambda address: self._candidates(routes, template, address, refused),
            self._live.replica_id,
            utcnow(),
        )
        if plan.failed:
            if self._guard is not None:  # an unverified source is told so first
                await self._guard.check_source(customer_id, body.source)
            raise _refusal(plan)
        async with publishing(self._sessions, self._wake) as session:
            if self._guard is not None:  # caller ID and share, locked until the commit
                await self._guard.admit(session, customer_id, body.source, len(plan.call_rows))
            await add_events(session, await store_plan(session, plan))
            if idempotency_key:
                await self._keys.complete(session, customer_id, idempotency_key)
            # The calls start before the relay wakes: their INVITEs go out before the
            # events that announce them are published.
            after_commit(session, lambda: self._live.start_plan(plan, template))
        return created_wire(plan.lone_rows, plan.group_rows)

    async def _resolve_routes(self, customer_id: str, numbers: set[str]) -> Routes:
        async def one(number: str) -> list[Dialroute] | NoRoute:
            try:
                return await self._dialroutes.resolve(customer_id, number)
            except NoRoute as missing:
                return missing

        ordered = sorted(numbers)
        found = await asyncio.gather(*(one(number) for number in ordered))
        return dict(zip(ordered, found, strict=True))

    def _candidates(
        self,
        routes: Routes,
        template: CallTemplate,
        address: dict[str, Any],
        refused: dict[str, str],
    ) -> Candidates:
        if address["type"] == "sip":
            target = str(address["target"])
            if target in refused:
                return Candidates(problem=f"refused by the dial policy: {refused[target]}")
            try:
                direct = self._candidate_factory.candidate(
                    ProviderRoute(hostname=target.partition("@")[2]), template, address
                )
            except InviteError as exc:
                return Candidates(problem=str(exc))
            # The SIP layer checks this customer-chosen hop again when it resolves it.
            spec = dataclasses.replace(direct.spec, customer_hop=True)
            return Candidates((dataclasses.replace(direct, spec=spec),))
        found = routes[address["target"]]
        if isinstance(found, NoRoute):
            return Candidates(problem=str(found), no_route=True)
        items: list[DialCandidate] = []
        problems: list[str] = []
        for dialroute in found:
            provider = ProviderRoute.from_wire(dialroute.provider.model_dump())
            try:
                items.append(
                    self._candidate_factory.candidate(
                        provider, template, address, dialroute.provider_id, dialroute.route_id
                    )
                )
            except InviteError as exc:
                # One misconfigured provider must not sink the call: the next may do.
                problems.append(f"provider {dialroute.provider_id}: {exc}")
            if len(items) == self._max_attempts:
                break
        return Candidates(tuple(items), "; ".join(problems))
