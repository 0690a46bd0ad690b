"""The provider_probes_recorded event: only results that changed a current target."""

from __future__ import annotations

from datetime import UTC, datetime

from health_checker.probes import ProbeReport
from health_checker.records import CheckedTarget, RecordedTarget, Target
from health_checker.services.board import probes_recorded_data

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def checked(provider_id: str, report: ProbeReport) -> CheckedTarget:
    return CheckedTarget(Target(provider_id, "10.0.0.1"), report, AT)


def test_current_results_carry_status_rtt_and_streak() -> None:
    batch = [
        checked("a", ProbeReport("healthy", 200, "OK", 1.25)),
        checked("b", ProbeReport("timeout", error="no response")),
        checked("c", ProbeReport("healthy", 200, "OK", 2.0)),
        checked("d", ProbeReport("healthy", 200, "OK", 3.0)),
    ]
    recorded = [
        RecordedTarget("a", 0, current=True, deleted=False),
        RecordedTarget("b", 3, current=True, deleted=False),
        RecordedTarget("c", 0, current=False, deleted=False),  # about an old hostname
        RecordedTarget("d", 0, current=True, deleted=True),
    ]
    rows = probes_recorded_data(batch, recorded)["results"]
    assert rows == [
        {
            "provider_id": "a",
            "status": "healthy",
            "checked_at": "2026-01-02 03:04:05.000000",
            "consecutive_failures": 0,
            "rtt_ms": 1.25,
        },
        {
            "provider_id": "b",
            "status": "unhealthy",
            "checked_at": "2026-01-02 03:04:05.000000",
            "consecutive_failures": 3,
            "rtt_ms": None,
        },
    ]
