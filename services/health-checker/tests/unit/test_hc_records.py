"""Reading provider records from events and list pages; classifying SIP probe results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from health_checker.records import ProviderRecord, newest_per_provider, provider_record
from health_checker.settings import Settings
from health_checker.sip_probe import classify, to_report
from shared.sip.options import ProbeFailure, ProbeOutcome, ProbeResult

WIRE: dict[str, Any] = {
    "id": "4dbeabd6-f397-4375-95d2-a38411e07ed1",
    "type": "sip",
    "hostname": "sip.telnyx.com",
    "health_status": "healthy",
    "tm_update": "2022-10-24 04:53:14.171374",
    "tm_delete": "9999-01-01 00:00:00.000000",
}


def test_a_provider_record_from_the_wire() -> None:
    record = provider_record(WIRE)
    assert record == ProviderRecord(
        "4dbeabd6-f397-4375-95d2-a38411e07ed1",
        "sip.telnyx.com",
        datetime(2022, 10, 24, 4, 53, 14, 171374, tzinfo=UTC),
        deleted=False,
    )
    assert provider_record({**WIRE, "tm_delete": "2022-10-25 00:00:00.000000"}).deleted


NO_HOSTNAME = {k: v for k, v in WIRE.items() if k != "hostname"}


@pytest.mark.parametrize(
    "bad", [None, [], {"id": "x"}, {**WIRE, "tm_update": "yesterday"}, NO_HOSTNAME]
)
def test_records_that_are_not_providers_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        provider_record(bad)


def test_the_newest_record_per_provider_wins() -> None:
    old = provider_record(WIRE)
    new = provider_record({**WIRE, "hostname": "b.example.com", "tm_update": "2023-01-01 00:00:00"})
    other = provider_record({**WIRE, "id": "00000000-0000-4000-8000-000000000000"})
    assert newest_per_provider([new, old, other]) == [new, other]


def _result(**kw: Any) -> ProbeResult:
    return ProbeResult(**{"outcome": ProbeOutcome.UNHEALTHY, "target": "t", **kw})


def test_probe_results_are_classified_for_the_metrics() -> None:
    answered = _result(outcome=ProbeOutcome.HEALTHY, status_code=503, attempts=("1.2.3.4:5060",))
    assert classify(answered) == "healthy"
    assert classify(_result(failure=ProbeFailure.UNRESOLVABLE)) == "unresolvable"
    assert classify(_result(failure=ProbeFailure.INVALID_TARGET)) == "unresolvable"
    assert classify(_result(failure=ProbeFailure.TIMEOUT, attempts=("a",))) == "timeout"
    assert classify(_result(failure=ProbeFailure.TRANSPORT, attempts=("a",))) == "error"
    # Without a failure kind: nothing sent means the name failed, else silence.
    assert classify(_result()) == "unresolvable"
    assert classify(_result(attempts=("a",))) == "timeout"
    report = to_report(answered)
    assert report.healthy and report.status == "healthy" and report.status_code == 503


def test_settings_defaults_and_the_documented_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INTERVAL", "TIMEOUT", "CONCURRENCY", "DNS_SERVERS"):
        monkeypatch.delenv(f"HEALTH_CHECK_{name}", raising=False)
    defaults = Settings.model_validate({})
    assert (defaults.interval, defaults.timeout, defaults.concurrency) == (30.0, 5.0, 500)
    assert defaults.nameservers is None
    tuned = Settings.model_validate(
        {
            "HEALTH_CHECK_INTERVAL": "10",
            "HEALTH_CHECK_TIMEOUT": "2.5",
            "HEALTH_CHECK_CONCURRENCY": "50",
            "HEALTH_CHECK_DNS_SERVERS": " 127.0.0.1:5353, [::1]:53 ",
        }
    )
    assert (tuned.interval, tuned.timeout, tuned.concurrency) == (10.0, 2.5, 50)
    assert tuned.nameservers == ["127.0.0.1:5353", "[::1]:53"]
    with pytest.raises(ValueError):
        Settings.model_validate({"HEALTH_CHECK_TIMEOUT": "0"})
