"""Route and dial-route request validation: every refusal is a 400 naming the field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from provider_manager.handlers.routes import customer_filter
from provider_manager.models import route_wire
from shared.contracts.routes import DialrouteQuery, RouteCreate, RouteUpdate
from shared.contracts.validation import parse_body
from shared.errors import AppError, ErrorStatus
from sqlalchemy import RowMapping
from sqlalchemy.engine.result import result_tuple

PROVIDER = str(uuid.uuid4())


def _create(**override: Any) -> dict[str, Any]:
    return {"provider_id": PROVIDER, "target": "+1", "priority": 1, **override}


def _refused(model: Any, body: Any) -> AppError:
    with pytest.raises(AppError) as caught:
        parse_body(model, body)
    assert caught.value.status is ErrorStatus.INVALID_ARGUMENT
    return caught.value


@pytest.mark.parametrize("target", ["all", "+1", "+44", "+1212", "+12345678"])
def test_good_targets(target: str) -> None:
    assert parse_body(RouteCreate, _create(target=target)).target == target


@pytest.mark.parametrize(
    "target", ["1", "+", "+123456789", "+12a", "ALL", "", " +1", "+1 ", "+\uff11", "any"]
)
def test_bad_targets_name_the_field(target: str) -> None:
    error = _refused(RouteCreate, _create(target=target))
    assert error.details == {"field": "target"}
    assert error.message.startswith("target: ")


@pytest.mark.parametrize("priority", ["1", True, 1.5, None, 2**31, -(2**31) - 1])
def test_bad_priorities_name_the_field(priority: Any) -> None:
    assert _refused(RouteCreate, _create(priority=priority)).details == {"field": "priority"}


@pytest.mark.parametrize("field", ["provider_id", "customer_id"])
@pytest.mark.parametrize("value", ["x", "1234", 42])
def test_ids_must_be_uuids(field: str, value: Any) -> None:
    assert _refused(RouteCreate, _create(**{field: value})).details == {"field": field}


def test_required_fields() -> None:
    assert _refused(RouteCreate, {"target": "+1"}).details == {"field": "provider_id"}
    assert _refused(RouteCreate, {"provider_id": PROVIDER}).details == {"field": "target"}


def test_defaults_and_normalized_ids() -> None:
    customer = uuid.uuid4()
    body = parse_body(
        RouteCreate,
        {"provider_id": PROVIDER.upper(), "target": "all", "customer_id": str(customer).upper()},
    )
    assert body.provider_id == PROVIDER
    assert body.customer_id == str(customer)
    assert (body.priority, body.name, body.detail) == (0, "", "")
    assert parse_body(RouteCreate, _create()).customer_id is None


def test_text_rules() -> None:
    assert _refused(RouteCreate, _create(name="a\x00b")).details == {"field": "name"}
    assert _refused(RouteCreate, _create(name="n" * 256)).details == {"field": "name"}


def test_update_takes_only_given_fields_and_ignores_the_owner() -> None:
    update = parse_body(
        RouteUpdate, {"priority": 5, "name": None, "customer_id": str(uuid.uuid4()), "id": "x"}
    )
    assert update.changes() == {"priority": 5}
    assert _refused(RouteUpdate, {"target": "+"}).details == {"field": "target"}
    assert _refused(RouteUpdate, {"priority": "2"}).details == {"field": "priority"}


def test_body_must_be_an_object() -> None:
    assert _refused(RouteCreate, [1]).reason == "INVALID_JSON_BODY"


@pytest.mark.parametrize(
    "number", ["+1212555", "+123456789012345", "+12125551234", "+821012345678"]
)
def test_good_numbers(number: str) -> None:
    customer = str(uuid.uuid4())
    query = parse_body(DialrouteQuery, {"customer_id": customer, "target": number})
    assert query.target == number


@pytest.mark.parametrize(
    "number", ["12125551234", "+121255", "+1234567890123456", "+1212555123a", "", "+", 1212]
)
def test_bad_numbers_name_the_field(number: Any) -> None:
    error = _refused(DialrouteQuery, {"customer_id": str(uuid.uuid4()), "target": number})
    assert error.details == {"field": "target"}


def test_dialroute_customer_is_required_and_a_uuid() -> None:
    assert _refused(DialrouteQuery, {"target": "+12125551234"}).details == {"field": "customer_id"}
    bad = {"customer_id": "nope", "target": "+12125551234"}
    assert _refused(DialrouteQuery, bad).details == {"field": "customer_id"}


def test_list_filter() -> None:
    customer = uuid.uuid4()
    assert customer_filter(None) is None
    assert customer_filter("") is None
    assert customer_filter(str(customer).upper()) == str(customer)
    with pytest.raises(AppError) as caught:
        customer_filter("x")
    assert caught.value.details == {"field": "customer_id"}


def _row(**values: Any) -> RowMapping:
    return result_tuple(list(values))(tuple(values.values()))._mapping


def test_route_renders_with_the_never_sentinel_while_active() -> None:
    stored: dict[str, Any] = {
        "id": "b3f0d6d2-3d5e-4a53-8d6c-2a6b8e5d9f10",
        "customer_id": "00000000-0000-0000-0000-000000000001",
        "name": "us",
        "detail": "",
        "provider_id": PROVIDER,
        "priority": 1,
        "target": "+1",
        "tm_create": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "tm_update": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "tm_delete": None,
    }
    wire = route_wire(_row(**stored))
    assert wire["tm_create"] == "2026-01-02 03:04:05.000006"
    assert wire["tm_delete"] == "9999-01-01 00:00:00.000000"
    deleted = route_wire(_row(**{**stored, "tm_delete": datetime(2026, 2, 1, tzinfo=UTC)}))
    assert deleted["tm_delete"] == "2026-02-01 00:00:00.000000"
