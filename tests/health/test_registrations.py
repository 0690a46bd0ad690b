"""Outbound registration kept by the health-checker against kamailio's registrar (Digest,
in-memory usrloc): registered, refreshed before the short granted lifetime runs out, failed
with a reason on a wrong password, unregistered when turned off or deleted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from health_checker.app import HealthCheckerApp
from shared.sip.testing.kamailio import KamailioProcess
from sqlalchemy import text

from tests.support.events import EventCollector
from tests.support.polling import eventually
from tests.support.providers import ProviderApi

USER, PASSWORD = "reg-user", "reg-pw-789"
GRANTED = 4  # kamailio's max_expires: refreshes every 2 s


async def _status(
    providers: ProviderApi, provider_id: str, status: str, timeout: float = 10.0
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        provider = await providers.get(provider_id)
        return provider if provider["registration_status"] == status else None

    return await eventually(probe, timeout, message=f"registration {status}")


async def _cseq(app: HealthCheckerApp, provider_id: str) -> int:
    async with app.engine.connect() as conn:
        value = (
            await conn.execute(
                text("SELECT cseq FROM health_checker.registrations WHERE provider_id = :p"),
                {"p": provider_id},
            )
        ).scalar_one_or_none()
    return int(value or 0)


async def test_registration_lifecycle_against_kamailio(
    start_health_checker: Callable[..., Awaitable[HealthCheckerApp]],
    providers: ProviderApi,
    events: EventCollector,
    tmp_path: Path,
) -> None:
    app = await start_health_checker(HEALTH_CHECK_REGISTER_RETRY=1)
    async with KamailioProcess(
        tmp_path / "registrar", user=USER, password=PASSWORD, max_expires=GRANTED
    ) as registrar:
        created = await providers.create(
            registrar.target,
            auth_username=USER,
            auth_password=PASSWORD,
            register=True,
            register_expires=3600,
        )
        pid = created["id"]
        assert created["registration_status"] == "registering"
        registered = await _status(providers, pid, "registered")
        assert "expires 4" in registered["registration_reason"]
        assert registered["registration_changed_at"] >= created["registration_changed_at"]
        [changed] = await events.wait_for("provider_registration_changed", provider_id=pid)
        assert (changed["data"]["old_status"], changed["data"]["new_status"]) == (
            "registering",
            "registered",
        )
        assert "auth_password" not in changed["data"]["provider"]
        assert PASSWORD not in str(changed)

        # The binding outlives several granted lifetimes: refreshed on the same Call-ID.
        first_cseq = await _cseq(app, pid)

        async def refreshed() -> bool | None:
            return (await _cseq(app, pid) >= first_cseq + 3) or None

        await eventually(refreshed, 15.0, message="three refreshes")
        assert USER in await registrar.bindings(USER)

        off = await providers.update(pid, register=False)
        assert off["registration_status"] == "unregistered"

        async def binding_gone() -> bool | None:
            return (await registrar.bindings(USER) == "") or None

        await eventually(binding_gone, 10.0, message="binding removed (Expires: 0)")

        await providers.update(pid, register=True)
        await _status(providers, pid, "registered")
        assert USER in await registrar.bindings(USER)
        await providers.delete(pid)
        await eventually(binding_gone, 10.0, message="binding removed after delete")


async def test_a_wrong_password_fails_with_the_reason(
    start_health_checker: Callable[..., Awaitable[HealthCheckerApp]],
    providers: ProviderApi,
    tmp_path: Path,
) -> None:
    await start_health_checker(HEALTH_CHECK_REGISTER_RETRY=30)
    async with KamailioProcess(tmp_path / "registrar", user=USER, password=PASSWORD) as edge:
        created = await providers.create(
            edge.target, auth_username=USER, auth_password="wrong", register=True
        )
        failed = await _status(providers, created["id"], "failed")
        assert failed["registration_reason"].startswith("401")
        assert "rejected" in failed["registration_reason"]
        assert await edge.bindings(USER) == ""


async def _owners(app: HealthCheckerApp, provider_id: str) -> tuple[str | None, int]:
    async with app.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT owner, cseq FROM health_checker.registrations WHERE provider_id = :p"),
                {"p": provider_id},
            )
        ).one()
    return row[0], int(row[1])


async def test_one_replica_keeps_a_registration_and_another_takes_over(
    start_health_checker: Callable[..., Awaitable[HealthCheckerApp]],
    providers: ProviderApi,
    tmp_path: Path,
) -> None:
    settings = {"HEALTH_CHECK_REGISTER_RETRY": 1, "HEALTH_CHECK_REGISTER_LEASE": 2}
    first = await start_health_checker(**settings)
    second = await start_health_checker(**settings)
    async with KamailioProcess(
        tmp_path / "registrar", user=USER, password=PASSWORD, max_expires=GRANTED
    ) as registrar:
        created = await providers.create(
            registrar.target, auth_username=USER, auth_password=PASSWORD, register=True
        )
        pid = created["id"]
        await _status(providers, pid, "registered")
        owner, cseq = await _owners(first, pid)
        assert owner in (first.replica, second.replica)

        async def refreshed_by_one(since: int) -> bool | None:
            now_owner, now_cseq = await _owners(first, pid)
            assert now_owner == owner  # never shared while the owner lives
            return (now_cseq >= since + 2) or None

        await eventually(lambda: refreshed_by_one(cseq), 10.0, message="two refreshes")
        # One binding at the registrar: one Contact, refreshed, never a second replica's.
        assert (await registrar.bindings(USER)).count("Address:") == 1

        # The owner stops; after its lease the other replica keeps the registration alive.
        gone, survivor = (first, second) if owner == first.replica else (second, first)
        await gone.stop()

        async def taken_over() -> bool | None:
            now_owner, _ = await _owners(survivor, pid)
            return (now_owner == survivor.replica) or None

        await eventually(taken_over, 15.0, message="the survivor owns the registration")
        _, taken_cseq = await _owners(survivor, pid)

        async def kept_alive() -> bool | None:
            return ((await _owners(survivor, pid))[1] >= taken_cseq + 2) or None

        await eventually(kept_alive, 10.0, message="refreshed by the survivor")
        assert USER in await registrar.bindings(USER)
