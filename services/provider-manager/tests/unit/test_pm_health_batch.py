"""The health write-back batch: one write per provider (newest wins), bad items are a 400."""

from __future__ import annotations

from typing import Any

import pytest
from provider_manager.services.health import latest_per_provider
from shared.contracts.health import ProviderHealthBatch
from shared.errors import AppError

PID = "4dbeabd6-f397-4375-95d2-a38411e07ed1"


def _item(**kw: Any) -> dict[str, Any]:
    return {
        "provider_id": PID,
        "hostname": "sip.example.com",
        "status": "healthy",
        "checked_at": "2026-04-20 03:15:00.000000",
        **kw,
    }


def test_the_newest_result_per_provider_wins() -> None:
    batch = ProviderHealthBatch.model_validate(
        {
            "results": [
                _item(status="unhealthy", checked_at="2026-04-20 03:15:01.000000"),
                _item(status="healthy"),
                _item(provider_id=PID.upper(), status="unhealthy"),
            ]
        }
    )
    [write] = latest_per_provider(batch)
    assert write.provider_id == PID
    assert write.status == "unhealthy"
    assert write.checked_at.second == 1


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (_item(provider_id="nope"), "results.0.provider_id"),
        (_item(checked_at="soon"), "results.0.checked_at"),
    ],
)
def test_bad_items_name_the_field(item: dict[str, Any], field: str) -> None:
    batch = ProviderHealthBatch.model_validate({"results": [item]})
    with pytest.raises(AppError) as caught:
        latest_per_provider(batch)
    assert caught.value.http_status == 400
    assert (caught.value.details or {})["field"] == field
