"""A hostname change resets health at once; only a probe of the new hostname sets it again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from health_checker.app import HealthCheckerApp
from shared.sip.testing.udp_peers import SilentPeer, SipResponder

from tests.support.polling import eventually
from tests.support.providers import ProviderApi
from tests.support.sip_traffic import probes

StartPeer = Callable[..., Awaitable[SipResponder | SilentPeer]]


async def test_a_new_hostname_is_unknown_at_once_then_probed_within_two_seconds(
    health_checker: HealthCheckerApp, providers: ProviderApi, peers: StartPeer
) -> None:
    old_host = await peers(silent=True)
    new_host = await peers()
    created = await providers.create(old_host.target)
    await providers.wait_status(created["id"], "unhealthy")

    changed = await providers.update(created["id"], hostname=new_host.target)
    assert changed["health_status"] == "unknown"
    assert changed["health_checked_at"] is None

    provider = await providers.wait_status(created["id"], "healthy", timeout=2.0)
    assert provider["health_checked_at"] is not None
    assert probes(new_host)
    checks = await providers.health_checks(created["id"])
    # A probe of the old host still in flight at the change may conclude after the new one.
    assert new_host.target in {c["hostname"] for c in checks[:2]}
    assert any(c["hostname"] == old_host.target for c in checks)


async def test_a_slow_probe_of_the_old_hostname_does_not_overwrite_the_new_result(
    start_health_checker: Callable[..., Awaitable[HealthCheckerApp]],
    providers: ProviderApi,
    peers: StartPeer,
) -> None:
    # A long timeout and interval: the old host's probe is still waiting when the change
    # lands, and nothing else probes it again during the test.
    await start_health_checker(HEALTH_CHECK_TIMEOUT=2.5, HEALTH_CHECK_INTERVAL=30)
    old_host = await peers(silent=True)
    new_host = await peers()
    created = await providers.create(old_host.target)

    async def old_probe_in_flight() -> bool:
        return bool(old_host.received)

    await eventually(old_probe_in_flight, 3.0, message="first OPTIONS at the old host")
    changed = await providers.update(created["id"], hostname=new_host.target)
    assert changed["health_status"] == "unknown"
    healthy = await providers.wait_status(created["id"], "healthy", timeout=2.0)

    async def old_probe_concluded() -> list[dict[str, Any]] | None:
        checks = await providers.health_checks(created["id"])
        stale = [c for c in checks if c["hostname"] == old_host.target]
        return stale or None

    stale = await eventually(old_probe_concluded, 5.0, message="old host's probe recorded")
    assert stale[0]["outcome"] == "unhealthy"
    assert stale[0]["checked_at"] > healthy["health_checked_at"]  # it finished last...
    provider = await providers.get(created["id"])
    assert provider["health_status"] == "healthy"  # ...and changed nothing
    assert provider["health_checked_at"] == healthy["health_checked_at"]
