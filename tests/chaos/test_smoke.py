"""A smoke-sized `make chaos`: the real platform, two replicas of everything as processes,
a small load, one kill -9 of a provider-manager replica. It proves the suite still runs
end to end, and the property the full run shows: a killed provider-manager loses nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.run import Scenario, Sizes, Suite, scenarios

SMOKE = Sizes(writers=2, callers=2, probed=5, settle=2.0, observe=3.0)


@pytest.mark.timeout(400)
async def test_a_killed_provider_manager_replica_loses_no_event_and_no_request(
    backends: tuple[str, str],
) -> None:
    server_url, amqp_url = backends
    suite = Suite(Path(tempfile.mkdtemp(prefix="chaos-smoke-")), server_url, amqp_url, SMOKE)
    try:
        await suite.start()
        [kill] = [s for s in scenarios(suite) if s.name == "kill-provider-manager"]
        assert suite.load is not None
        await suite.load.start()
        await suite.run(kill)
        await suite.load.stop()
        await suite.finish()
    finally:
        await suite.stop()
    figures = _figures(kill)
    writes = figures["provider POST"]
    assert writes["answered"].get("200", 0) > 0
    # Only a 503 may fail a write (other suites restart the shared PostgreSQL at times).
    assert set(writes["answered"]) <= {"200", "503"}, writes
    assert figures["events_lost"] == 0
    assert figures["ready_after_s"] is not None
    assert figures["carrier_answered"] >= 1
    assert figures["calls_without_bye"] == 0


def _figures(scenario: Scenario) -> dict[str, Any]:
    assert scenario.figures, "the scenario produced no figures"
    return scenario.figures
