"""The call-metrics window: a bounded number of seconds, named in the 400 otherwise."""

from __future__ import annotations

import pytest
from shared.contracts.call_metrics import (
    DEFAULT_WINDOW_SECONDS,
    MAX_WINDOW_SECONDS,
    MIN_WINDOW_SECONDS,
    metrics_window,
)
from shared.errors import AppError


def test_absent_is_the_last_hour() -> None:
    assert metrics_window(None) == DEFAULT_WINDOW_SECONDS == metrics_window("")


@pytest.mark.parametrize("raw", [str(MIN_WINDOW_SECONDS), "86400", str(MAX_WINDOW_SECONDS)])
def test_in_range(raw: str) -> None:
    assert metrics_window(raw) == int(raw)


@pytest.mark.parametrize("raw", ["59", "0", "-5", "abc", "1.5", str(MAX_WINDOW_SECONDS + 1)])
def test_out_of_range_names_the_field(raw: str) -> None:
    with pytest.raises(AppError) as caught:
        metrics_window(raw)
    assert caught.value.http_status == 400
    assert caught.value.to_dict()["details"] == {"field": "window_seconds"}
