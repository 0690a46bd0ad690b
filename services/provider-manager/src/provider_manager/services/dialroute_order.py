"""The dial-route ordering rules, as a pure function (no I/O) so every rule is unit-tested.

Given the routes that could apply to a number, the order is:
  1. the customer's routes whose target is the longest prefix of the number that it has,
  2. the customer's `all` routes,
  3. the default customer's longest-prefix routes,
  4. the default customer's `all` routes;
within a group by priority ascending, then tm_create, then route id (so ties are stable).
A provider appears once, where it first appears. Providers whose latest health is
`unhealthy` then move behind the others, keeping their relative order: they are never
dropped, because when every carrier looks down the best one is still worth a try.

This fixes VoIPbin's resolver, which matches the country code only and, since its refactor,
ignores priority (it orders by tm_create DESC).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.contracts.routes import MAX_PREFIX_DIGITS, TARGET_ALL, DialrouteGroup

GROUP_RANK: dict[DialrouteGroup, int] = {
    "customer_prefix": 0,
    "customer_all": 1,
    "default_prefix": 2,
    "default_all": 3,
}


@dataclass(frozen=True, slots=True)
class RouteCandidate:
    """What ordering needs to know of one undeleted route to an undeleted provider."""

    route_id: str
    customer_id: str
    target: str
    priority: int
    tm_create: datetime
    provider_id: str
    provider_health: str


@dataclass(frozen=True, slots=True)
class RankedRoute:
    candidate: RouteCandidate
    group: DialrouteGroup


def candidate_targets(number: str) -> list[str]:
    """Every route target that can match `number`: its prefixes of 1 to 8 digits, and `all`.

    Equality on these (rather than `number LIKE target || '%'`) lets the database answer
    from the (customer_id, target) index.
    """
    digits = number.removeprefix("+")
    prefixes = [f"+{digits[:n]}" for n in range(1, min(len(digits), MAX_PREFIX_DIGITS) + 1)]
    return [*prefixes, TARGET_ALL]


def _matches(target: str, number: str) -> bool:
    return target == TARGET_ALL or number.startswith(target)


def order_dialroutes(
    candidates: Iterable[RouteCandidate],
    number: str,
    customer_id: str,
    default_customer_id: str,
) -> list[RankedRoute]:
    """The routes to try for `customer_id` calling `number`, best first (see module doc)."""
    usable = [
        c
        for c in candidates
        if c.customer_id in (customer_id, default_customer_id) and _matches(c.target, number)
    ]
    # Longest matching prefix per customer: a `+1212` route hides that customer's `+1` ones.
    longest: dict[str, int] = {}
    for c in usable:
        if c.target != TARGET_ALL:
            longest[c.customer_id] = max(longest.get(c.customer_id, 0), len(c.target))

    ranked: list[RankedRoute] = []
    for c in usable:
        is_all = c.target == TARGET_ALL
        if not is_all and len(c.target) != longest[c.customer_id]:
            continue
        # When the customer is the default customer, its routes count as its own.
        own = c.customer_id == customer_id
        if own:
            group: DialrouteGroup = "customer_all" if is_all else "customer_prefix"
        else:
            group = "default_all" if is_all else "default_prefix"
        ranked.append(RankedRoute(c, group))
    ranked.sort(
        key=lambda r: (
            GROUP_RANK[r.group],
            r.candidate.priority,
            r.candidate.tm_create,
            r.candidate.route_id,
        )
    )

    seen: set[str] = set()
    unique: list[RankedRoute] = []
    for r in ranked:
        if r.candidate.provider_id not in seen:
            seen.add(r.candidate.provider_id)
            unique.append(r)
    # Stable partition: unhealthy ones last, order otherwise unchanged.
    return [r for r in unique if r.candidate.provider_health != "unhealthy"] + [
        r for r in unique if r.candidate.provider_health == "unhealthy"
    ]
