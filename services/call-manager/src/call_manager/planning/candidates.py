"""How one address is dialed: the INVITE a provider's settings make for it, checked by the
SIP layer's own rules before any row is written (a call is never created undialable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.ids import NIL_UUID

from call_manager.dialing.candidates import Candidates, DialCandidate
from call_manager.dialing.invite import InviteError, ProviderRoute, build_invite
from call_manager.dialing.leg import InviteSpec
from call_manager.planning.template import CallTemplate

# Why the stack would refuse an INVITE (Dialer.problem), or None.
InviteCheck = Callable[[InviteSpec], str | None]


class CandidateFactory:
    def __init__(self, check: InviteCheck) -> None:
        self._check = check

    def invite_for(
        self, route: ProviderRoute, template: CallTemplate, destination: dict[str, Any]
    ) -> InviteSpec:
        """Raises InviteError when the provider's settings cannot form an INVITE."""
        spec = build_invite(route, template.source, destination, template.anonymous)
        problem = self._check(spec)
        if problem:
            raise InviteError(problem)
        return spec

    def candidate(
        self,
        route: ProviderRoute,
        template: CallTemplate,
        destination: dict[str, Any],
        provider_id: str = NIL_UUID,
        route_id: str = NIL_UUID,
    ) -> DialCandidate:
        """Raises InviteError when the provider's settings cannot form an INVITE."""
        return DialCandidate(self.invite_for(route, template, destination), provider_id, route_id)

    def forced(
        self, route: ProviderRoute, template: CallTemplate, destination: dict[str, Any]
    ) -> Candidates:
        """The one candidate of a call forced through `template.provider_id`."""
        try:
            return Candidates((self.candidate(route, template, destination, template.provider_id),))
        except InviteError as exc:
            return Candidates(problem=str(exc))
