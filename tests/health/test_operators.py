"""Operators' view of a running health-checker: Prometheus metrics, and a bus that stays
quiet while nothing changes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import aiohttp
from health_checker.app import HealthCheckerApp
from shared.sip.testing.udp_peers import SilentPeer, SipResponder

from tests.support.events import EventCollector
from tests.support.polling import eventually
from tests.support.providers import ProviderApi
from tests.support.sip_traffic import more_probes

StartPeer = Callable[..., Awaitable[SipResponder | SilentPeer]]


async def scrape(app: HealthCheckerApp) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{app.bound_ops_port}/metrics") as resp,
    ):
        assert resp.status == 200
        return await resp.text()


def sample(metrics: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + r"$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else None


async def test_metrics_cover_probes_rounds_statuses_and_failing_providers(
    health_checker: HealthCheckerApp, providers: ProviderApi, peers: StartPeer
) -> None:
    answering, silent = await peers(), await peers(silent=True)
    fine = await providers.create(answering.target)
    failing = await providers.create(silent.target)
    await providers.wait_status(fine["id"], "healthy")
    await providers.wait_status(failing["id"], "unhealthy")

    async def exported() -> str | None:
        text = await scrape(health_checker)
        failures = sample(text, "health_check_consecutive_failures", provider_id=failing["id"])
        # The by-status gauge is refreshed after each round, a moment after the results.
        unhealthy = sample(text, "health_check_providers", status="unhealthy")
        return text if (failures or 0) >= 2 and (unhealthy or 0) >= 1 else None

    metrics = await eventually(exported, 8.0, message="failures and statuses exported")
    assert (sample(metrics, "health_check_probes_total", outcome="healthy") or 0) >= 1
    assert (sample(metrics, "health_check_probes_total", outcome="timeout") or 0) >= 2
    assert (sample(metrics, "health_check_probe_rtt_seconds_count") or 0) >= 1
    assert (sample(metrics, "health_check_round_seconds_count") or 0) >= 1
    assert sample(metrics, "health_check_last_round_seconds") is not None
    assert (sample(metrics, "health_check_providers", status="healthy") or 0) >= 1
    assert sample(metrics, "health_check_round_overruns_total") is not None
    # Answering providers cost no series.
    assert sample(metrics, "health_check_consecutive_failures", provider_id=fine["id"]) is None

    await providers.delete(failing["id"])

    async def series_gone() -> bool:
        text = await scrape(health_checker)
        return f'provider_id="{failing["id"]}"' not in text

    await eventually(series_gone, 5.0, message="the deleted provider's series removed")


async def test_provider_health_changed_only_when_the_status_changes(
    health_checker: HealthCheckerApp,
    providers: ProviderApi,
    peers: StartPeer,
    events: EventCollector,
) -> None:
    carrier = await peers()
    created = await providers.create(carrier.target)
    pid = created["id"]
    await providers.wait_status(pid, "healthy")
    await more_probes(carrier, 3)  # three steady rounds: nothing to announce

    carrier.close()  # the carrier goes away: the next probe times out
    await providers.wait_status(pid, "unhealthy")
    changes = await events.wait_for("provider_health_changed", count=2, provider_id=pid)

    async def two_more_failures() -> bool:
        checks = await providers.health_checks(pid)
        return len([c for c in checks if c["outcome"] == "unhealthy"]) >= 3

    await eventually(two_more_failures, 8.0, message="more failed probes")
    changes = events.of_type("provider_health_changed", provider_id=pid)
    assert [(e["data"]["old_status"], e["data"]["new_status"]) for e in changes] == [
        ("unknown", "healthy"),
        ("healthy", "unhealthy"),
    ]
    assert changes[1]["data"]["hostname"] == carrier.target
    assert changes[1]["data"]["provider"]["health_status"] == "unhealthy"
    assert events.of_type("provider_updated", id=pid) == []
