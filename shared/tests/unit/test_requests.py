"""Request parsing every service shares: path ids, optional ids, the id of a new resource."""

from __future__ import annotations

import uuid

import pytest
from shared.errors import AppError, ErrorStatus
from shared.ids import NIL_UUID, canonical_uuid, is_uuid
from shared.requests import new_id, optional_uuid, path_uuid
from shared.rpc import RpcContext


def _ctx(params: dict[str, str] | None = None, message_id: str | None = None) -> RpcContext:
    return RpcContext("GET", "/v1/providers/x", params or {}, {}, None, None, "t", message_id)


def test_path_uuid_normalizes_case() -> None:
    raw = uuid.uuid4()
    assert path_uuid(_ctx({"id": str(raw).upper()})) == str(raw)


@pytest.mark.parametrize(
    "bad",
    [
        "x",
        "1234",
        "4dbeabd6-f397-4375-95d2-a38411e07ed",
        "../etc",
        # Spellings uuid.UUID takes but the API documents do not: refused, one id one spelling.
        uuid.UUID(int=7).hex,
        f"{{{uuid.UUID(int=7)}}}",
        f"urn:uuid:{uuid.UUID(int=7)}",
        f"{uuid.UUID(int=7)}\n",
    ],
)
def test_path_uuid_refuses(bad: str) -> None:
    with pytest.raises(AppError) as caught:
        path_uuid(_ctx({"id": bad}))
    assert caught.value.status is ErrorStatus.INVALID_ARGUMENT
    assert caught.value.reason == "INVALID_ID"
    assert not is_uuid(bad)


def test_optional_uuid() -> None:
    assert optional_uuid(None, "customer_id") is None
    assert optional_uuid("", "customer_id") is None
    assert optional_uuid(NIL_UUID.upper(), "customer_id") == NIL_UUID
    with pytest.raises(AppError) as caught:
        optional_uuid("nope", "customer_id")
    assert caught.value.details == {"field": "customer_id"}
    with pytest.raises(ValueError, match="must be a UUID"):
        canonical_uuid("nope")


def test_new_id_follows_the_message_id() -> None:
    message_id = uuid.uuid4()
    # The same broker message (a redelivery) always yields the same resource id.
    assert new_id(_ctx(message_id=message_id.hex)) == str(message_id)
    assert new_id(_ctx(message_id=str(message_id))) == str(message_id)
    # Not a UUID, or none at all: a fresh random id.
    first, second = new_id(_ctx(message_id="abc")), new_id(_ctx())
    assert first != second
    assert uuid.UUID(first).version == 4 and uuid.UUID(second).version == 4
