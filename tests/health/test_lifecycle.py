"""ProviderApi come and go: deletion stops probes, a restarted health-checker catches up with
what changed while it was down, and replicas share the work without probing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustConnection
from health_checker.app import HealthCheckerApp
from shared.sip.testing.udp_peers import SilentPeer, SipResponder

from tests.support.health import StartHealthChecker, target_row
from tests.support.polling import eventually
from tests.support.providers import ProviderApi
from tests.support.sip_traffic import gaps, more_probes, probes

StartPeer = Callable[..., Awaitable[SipResponder | SilentPeer]]


async def test_a_deleted_provider_is_no_longer_probed(
    health_checker: HealthCheckerApp, providers: ProviderApi, peers: StartPeer
) -> None:
    doomed, control = await peers(), await peers()
    victim = await providers.create(doomed.target)
    witness = await providers.create(control.target)
    await providers.wait_status(victim["id"], "healthy")
    await providers.wait_status(witness["id"], "healthy")

    await providers.delete(victim["id"])

    async def tombstoned() -> bool:
        row = await target_row(health_checker.engine, victim["id"])
        return row is not None and row["tm_delete"] is not None

    await eventually(tombstoned, 5.0, message="target tombstoned")
    await more_probes(control, 1)  # any probe of the victim begun before is answered by now
    seen = len(probes(doomed))
    await more_probes(control, 3)  # three more rounds
    assert len(probes(doomed)) == seen


@pytest.mark.parametrize("events_lost", [False, True], ids=["events-queued", "events-lost"])
async def test_a_restarted_health_checker_catches_up(
    start_health_checker: StartHealthChecker,
    providers: ProviderApi,
    peers: StartPeer,
    broker: AbstractRobustConnection,
    platform_env: dict[str, Any],
    events_lost: bool,
) -> None:
    first = await start_health_checker()
    kept_peer, moved_peer, deleted_peer = await peers(), await peers(), await peers()
    kept = await providers.create(kept_peer.target)
    moved = await providers.create(moved_peer.target)
    deleted = await providers.create(deleted_peer.target)
    for provider in (kept, moved, deleted):
        await providers.wait_status(provider["id"], "healthy")
    await first.stop()

    if events_lost:
        # The worst case: everything said while we were down is gone; only a resync heals.
        channel = await broker.channel()
        await channel.queue_delete(f"{platform_env['QUEUE_PREFIX']}.health-checker.subscribe")
        await channel.close()
    new_peer, moved_to = await peers(), await peers()
    created = await providers.create(new_peer.target)
    await providers.update(moved["id"], hostname=moved_to.target)
    await providers.delete(deleted["id"])
    deleted_seen = len(probes(deleted_peer))

    second = await start_health_checker()
    await providers.wait_status(created["id"], "healthy", timeout=3.0)
    await providers.wait_status(moved["id"], "healthy", timeout=3.0)
    assert probes(moved_to)
    moved_row = await target_row(second.engine, moved["id"])
    assert moved_row is not None and moved_row["hostname"] == moved_to.target
    deleted_row = await target_row(second.engine, deleted["id"])
    assert deleted_row is not None and deleted_row["tm_delete"] is not None

    await more_probes(kept_peer, 2)
    assert len(probes(deleted_peer)) == deleted_seen
    assert (await providers.get(kept["id"]))["health_status"] == "healthy"


async def test_two_replicas_probe_each_provider_once_per_round(
    start_health_checker: StartHealthChecker, providers: ProviderApi, peers: StartPeer
) -> None:
    replicas = [await start_health_checker(), await start_health_checker()]
    interval = replicas[0].config.interval
    jitter = replicas[0].config.jitter
    carriers = [await peers() for _ in range(6)]
    for carrier in carriers:
        await providers.create(carrier.target)

    async def four_rounds() -> bool:
        return all(len(probes(c)) >= 5 for c in carriers)

    await eventually(four_rounds, 12.0, message="five probes at every carrier")
    for carrier in carriers:
        spacing = gaps(carrier)
        # Two replicas probing the same round would show up as a gap near zero.
        assert min(spacing) >= interval * (1 - jitter) - 0.05, (carrier.target, spacing)
    assert all(r.scheduler.probed > 0 for r in replicas), [r.scheduler.probed for r in replicas]
