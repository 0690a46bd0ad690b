"""The providers one call may go through, in the order they are tried.

A ProviderCall's call has one candidate (its forced provider), a routed call one per dial
route, a sip destination dialed directly one without a provider. The controller walks the
list on failover; with one candidate the same code simply has nowhere to go.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.ids import NIL_UUID

from call_manager.dialing.leg import InviteSpec


@dataclass(frozen=True, slots=True)
class DialCandidate:
    spec: InviteSpec
    provider_id: str = NIL_UUID  # nil: a sip destination dialed at its own host
    route_id: str = NIL_UUID  # nil: a forced provider or a direct call


@dataclass(frozen=True, slots=True)
class Candidates:
    """`items` in try order; when empty, `problem` says why nothing can be dialed."""

    items: tuple[DialCandidate, ...] = ()
    problem: str = ""
    # True when the emptiness is "no dial route matched" (a 422 NO_ROUTE for POST /calls).
    no_route: bool = False

    @property
    def provider_ids(self) -> list[str]:
        return [c.provider_id for c in self.items if c.provider_id != NIL_UUID]
