"""No call stays unfinished after a crash, and hangups reach the replica holding the dialog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from call_manager.app import CallManagerApp
from call_manager.dialing.leg import InviteSpec, LegEndKind, LegEvent, LegEventKind, LegListener
from call_manager.planning.template import CallTemplate
from call_manager.repositories.calls import CallRepository
from call_manager.settings import Settings as CallManagerSettings
from call_manager.tables import replicas
from sqlalchemy import func, insert

from tests.support.calls import CALL_MANAGER_ENV, get_json, new_uuid, wait_call
from tests.support.events import EventCollector


def _template(customer: str) -> CallTemplate:
    return CallTemplate(
        customer_id=customer,
        providercall_id=new_uuid(),
        provider_id=new_uuid(),
        flow_id="00000000-0000-0000-0000-000000000000",
        source={"type": "tel", "target": "+14155551234", "target_name": ""},
        anonymous="auto",
    )


async def _orphans(app: CallManagerApp, owner: str, customer: str, beat_age: float) -> list[str]:
    template = _template(customer)
    rows = [
        {
            **template.call_row(new_uuid(), {"type": "tel", "target": "+15551230000"}, owner),
            "status": status,
        }
        for status in ("dialing", "ringing", "progressing")
    ]
    async with app.sessions() as session, session.begin():
        await session.execute(
            insert(replicas).values(
                id=owner,
                heartbeat=func.clock_timestamp() - func.make_interval(0, 0, 0, 0, 0, 0, beat_age),
                tm_create=func.clock_timestamp(),
            )
        )
        await CallRepository(session).insert_many(rows)
    return [row["id"] for row in rows]


async def test_calls_of_a_dead_replica_are_finished_as_failed(
    call_manager: CallManagerApp,
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
    events: EventCollector,
) -> None:
    dead = f"dead-{new_uuid()[:8]}"
    call_ids = await _orphans(call_manager, dead, admin_customer, beat_age=3600)
    for call_id in call_ids:
        call = await wait_call(calls_api, admin_headers, call_id, "hangup", timeout=10)
        assert (call["hangup_reason"], call["hangup_by"]) == ("failed", "local")
        await events.wait_for("call_hangup", id=call_id)


async def test_old_idempotency_keys_are_purged(call_manager: CallManagerApp) -> None:
    assert await call_manager.recovery.purge_keys() >= 0


async def test_a_live_replica_is_left_alone(
    call_manager: CallManagerApp,
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
) -> None:
    alive = f"alive-{new_uuid()[:8]}"
    call_ids = await _orphans(call_manager, alive, admin_customer, beat_age=0)
    assert await call_manager.recovery.reap() == 0
    call = await get_json(calls_api, f"/v1.0/calls/{call_ids[0]}", admin_headers)
    assert call["status"] == "dialing"
    # ...until it stops beating: then the next reaper round finishes it.
    await wait_call(calls_api, admin_headers, call_ids[0], "hangup", timeout=10)


async def test_a_restarted_replica_finishes_its_own_calls_at_start(
    platform_env: dict[str, Any],
    call_manager: CallManagerApp,
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
) -> None:
    fixed = f"fixed-{new_uuid()[:8]}"
    call_ids = await _orphans(call_manager, fixed, admin_customer, beat_age=0)
    settings = CallManagerSettings.model_validate(
        {
            **platform_env,
            **CALL_MANAGER_ENV,
            "CALL_MANAGER_REPLICA_ID": fixed,
            "CALL_MANAGER_REAPER_INTERVAL": 60,
        }
    )
    restarted = CallManagerApp(settings, dialer=RingingDialer())
    await restarted.start()
    try:
        call = await get_json(calls_api, f"/v1.0/calls/{call_ids[1]}", admin_headers)
        assert (call["status"], call["hangup_reason"]) == ("hangup", "failed")
    finally:
        await restarted.stop()


class RingingLeg:
    """A carrier that rings forever and completes a CANCEL at once."""

    sip_call_id = "ringing-leg"

    def __init__(self, listener: LegListener) -> None:
        self._listener = listener
        asyncio.get_running_loop().call_soon(listener, LegEvent(LegEventKind.PROVISIONAL, 180))

    def cancel(self) -> None:
        self._listener(LegEvent(LegEventKind.ENDED, 487, LegEndKind.CANCELED))

    def hangup(self) -> None:
        self._listener(LegEvent(LegEventKind.ENDED, 200, LegEndKind.LOCAL_BYE))

    def abandon(self) -> None:
        return None


class RingingDialer:
    def problem(self, spec: InviteSpec) -> str | None:
        return None

    def dial(self, spec: InviteSpec, listener: LegListener) -> RingingLeg:
        return RingingLeg(listener)


@pytest.fixture
async def second_replica(
    platform_env: dict[str, Any], call_manager: CallManagerApp
) -> AsyncIterator[CallManagerApp]:
    settings = CallManagerSettings.model_validate({**platform_env, **CALL_MANAGER_ENV})
    app = CallManagerApp(settings, dialer=RingingDialer())
    await app.start()
    yield app
    await app.stop()


async def test_hangup_is_forwarded_to_the_replica_holding_the_dialog(
    call_manager: CallManagerApp,
    second_replica: CallManagerApp,
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
) -> None:
    from shared.contracts.calls import ProviderCallCreate

    provider = {
        "id": new_uuid(),
        "hostname": "carrier.example",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "tm_delete": "9999-01-01 00:00:00.000000",
    }

    async def lookup(_: str) -> dict[str, Any]:
        return provider

    second_replica.providercalls._providers = _Fixed(lookup)  # type: ignore[assignment]
    body = ProviderCallCreate.model_validate(
        {
            "provider_id": provider["id"],
            "source": {"type": "tel", "target": "+14155551234"},
            "destinations": [{"type": "tel", "target": "+15559990000"}],
        }
    )
    created = await second_replica.providercalls.create(new_uuid(), admin_customer, body, None)
    call_id = created["call_ids"][0]
    await wait_call(calls_api, admin_headers, call_id, "ringing")
    # The first replica does not hold the dialog: it must forward the order.
    assert call_id not in call_manager.live.controllers
    await call_manager.calls.hangup_call(call_id, None, forwarded=False)
    call = await wait_call(calls_api, admin_headers, call_id, "hangup")
    assert (call["hangup_reason"], call["hangup_by"]) == ("cancel", "local")


class _Fixed:
    """Stands in for ProviderLookup: the provider-manager is not what this test is about."""

    def __init__(self, lookup: Any) -> None:
        self.get_active = lookup
