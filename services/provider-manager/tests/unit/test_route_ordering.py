"""The dial-route ordering rules (pure function; the SQL side is tested in tests/routes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from provider_manager.services.dialroute_order import (
    RouteCandidate,
    candidate_targets,
    order_dialroutes,
)

CUSTOMER = str(uuid.uuid4())
DEFAULT = "00000000-0000-0000-0000-000000000001"
NUMBER = "+12125551234"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _route(
    name: str,
    target: str,
    *,
    customer: str = CUSTOMER,
    priority: int = 0,
    provider: str | None = None,
    health: str = "unknown",
    created: int = 0,
) -> RouteCandidate:
    """A candidate whose route id and (unless given) provider id are `name`."""
    return RouteCandidate(
        route_id=name,
        customer_id=customer,
        target=target,
        priority=priority,
        tm_create=T0 + timedelta(seconds=created),
        provider_id=provider or name,
        provider_health=health,
    )


def _order(*candidates: RouteCandidate, number: str = NUMBER) -> list[str]:
    return [r.candidate.route_id for r in order_dialroutes(candidates, number, CUSTOMER, DEFAULT)]


def test_candidate_targets_are_the_prefixes_up_to_eight_digits_and_all() -> None:
    assert candidate_targets(NUMBER) == [
        "+1",
        "+12",
        "+121",
        "+1212",
        "+12125",
        "+121255",
        "+1212555",
        "+12125551",
        "all",
    ]
    assert candidate_targets("+4420") == ["+4", "+44", "+442", "+4420", "all"]


def test_longest_prefix_beats_country_code_beats_all() -> None:
    assert _order(_route("all", "all"), _route("cc", "+1"), _route("nyc", "+1212")) == [
        "nyc",
        "all",
    ]


def test_country_code_when_no_longer_prefix_matches() -> None:
    # +1415 does not match a New York number; +1 is then the longest match.
    assert _order(_route("sf", "+1415"), _route("cc", "+1"), _route("all", "all")) == [
        "cc",
        "all",
    ]


def test_routes_for_other_numbers_or_customers_are_ignored() -> None:
    other = str(uuid.uuid4())
    assert _order(_route("uk", "+44"), _route("theirs", "+1", customer=other)) == []


def test_the_four_groups_in_order() -> None:
    order = order_dialroutes(
        [
            _route("d-all", "all", customer=DEFAULT),
            _route("d-nyc", "+1212", customer=DEFAULT),
            _route("c-all", "all"),
            _route("c-cc", "+1"),
        ],
        NUMBER,
        CUSTOMER,
        DEFAULT,
    )
    assert [(r.candidate.route_id, r.group) for r in order] == [
        ("c-cc", "customer_prefix"),
        ("c-all", "customer_all"),
        ("d-nyc", "default_prefix"),
        ("d-all", "default_all"),
    ]


def test_each_customer_has_its_own_longest_prefix() -> None:
    # The customer's longest is +1; the default's is +1212, which hides the default +1.
    assert _order(
        _route("c-cc", "+1"),
        _route("d-cc", "+1", customer=DEFAULT),
        _route("d-nyc", "+1212", customer=DEFAULT),
    ) == ["c-cc", "d-nyc"]


def test_priority_then_tm_create_then_id_within_a_group() -> None:
    assert _order(
        _route("late-p1", "+1", priority=1, created=5),
        _route("p2", "+1", priority=2, created=0),
        _route("early-p1", "+1", priority=1, created=1),
        _route("p0", "+1", priority=0, created=9),
        _route("b-tie", "+1", priority=3, created=3),
        _route("a-tie", "+1", priority=3, created=3),
    ) == ["p0", "early-p1", "late-p1", "p2", "a-tie", "b-tie"]


def test_negative_priority_goes_first() -> None:
    assert _order(_route("zero", "all"), _route("minus", "all", priority=-5)) == [
        "minus",
        "zero",
    ]


def test_a_provider_appears_once_where_it_first_appears() -> None:
    assert _order(
        _route("c-all-a", "all", provider="A"),
        _route("c-cc-a", "+1", provider="A", priority=9),
        _route("c-cc-b", "+1", provider="B", priority=1),
        _route("d-all-b", "all", provider="B", customer=DEFAULT),
        _route("d-all-c", "all", provider="C", customer=DEFAULT),
    ) == ["c-cc-b", "c-cc-a", "d-all-c"]


def test_unhealthy_providers_move_last_keeping_their_order() -> None:
    assert _order(
        _route("bad1", "+1", priority=1, health="unhealthy"),
        _route("good", "+1", priority=2, health="healthy"),
        _route("bad2", "+1", priority=3, health="unhealthy"),
        _route("unknown", "all", health="unknown"),
        _route("d-good", "all", customer=DEFAULT, health="healthy"),
    ) == ["good", "unknown", "d-good", "bad1", "bad2"]


def test_an_unhealthy_provider_is_returned_when_it_is_the_only_one() -> None:
    assert _order(_route("only", "+1", health="unhealthy")) == ["only"]


def test_dedup_uses_the_first_place_before_health_moves_it() -> None:
    # Provider A is unhealthy: its best route (the prefix one) is the one moved last.
    assert _order(
        _route("a-prefix", "+1", provider="A", health="unhealthy"),
        _route("a-all", "all", provider="A", health="unhealthy"),
        _route("b-all", "all", provider="B"),
    ) == ["b-all", "a-prefix"]


def test_the_default_customer_calling_uses_its_routes_as_its_own() -> None:
    order = order_dialroutes(
        [_route("d-cc", "+1", customer=DEFAULT), _route("d-all", "all", customer=DEFAULT)],
        NUMBER,
        DEFAULT,
        DEFAULT,
    )
    assert [(r.candidate.route_id, r.group) for r in order] == [
        ("d-cc", "customer_prefix"),
        ("d-all", "customer_all"),
    ]


@pytest.mark.parametrize("number", ["+12125551234", "+12125551"])
def test_an_eight_digit_prefix_matches(number: str) -> None:
    assert _order(_route("long", "+12125551"), _route("cc", "+1"), number=number) == ["long"]


def test_nothing_matches() -> None:
    assert _order() == []
