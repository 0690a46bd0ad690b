"""Unfinished setups are cleaned by the next setup that presents a key: what it removed is
recorded; nothing is marked clean on a guess; nothing outside the journal is ever touched."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from provider_manager.telnyx import TelnyxClient

from tests.support.carrier_setup import SetupDriver, assert_nothing_left, carrier_resources, tag_of
from tests.support.telnyx_fake import VALID_KEY, FakeTelnyx

CONNS = "/v2/ip_connections"


@pytest.fixture
async def clean_journal(driver: SetupDriver) -> AsyncIterator[None]:
    """These tests plant orphans; none may outlive the test and reach another test's sweep."""
    yield
    await driver.sql(
        "UPDATE provider_manager.provider_setups SET state = 'rolled_back' "
        "WHERE state NOT IN ('done', 'rolled_back')"
    )


async def plant_orphan(
    driver: SetupDriver,
    state: str,
    steps: list[str],
    resources: dict[str, Any],
    setup_id: str | None = None,
) -> str:
    """A journal row as a process killed at that point leaves it."""
    setup_id = setup_id or str(uuid.uuid4())
    row = {
        "id": setup_id,
        "provider_id": str(uuid.uuid4()),
        "state": state,
        "steps": json.dumps([{"step": s, "at": "2026-01-01 00:00:00.000000"} for s in steps]),
        "resources": json.dumps(resources),
    }
    values = ", ".join(f"'{v}'" for v in row.values())
    await driver.sql(
        "INSERT INTO provider_manager.provider_setups "
        "(id, provider_id, state, steps, resources, carrier, name, tm_create, tm_update) "
        f"VALUES ({values}, 'telnyx', 'orphan', now(), now())"
    )
    return setup_id


async def test_a_failed_rollback_is_pending_and_the_next_setup_finishes_it(
    fake: FakeTelnyx, driver: SetupDriver, clean_journal: None
) -> None:
    fake.add_fault(method="POST", path="/v2/ips", status=503, times=None)
    fake.add_fault(method="DELETE", path=f"{CONNS}/{{id}}", status=503, times=None)
    failed = await driver.setup()
    assert failed.status_code == 502
    assert failed.data["details"]["cleanup"] == "pending"
    orphan_id = failed.data["details"]["setup_id"]
    record = await driver.journal(orphan_id)
    assert record["state"] == "cleanup_pending"
    assert [f["kind"] for f in record["cleanup"][0]["failed"]] == [
        "ip_connection",
        "outbound_voice_profile",  # refused: the connection still uses it
    ]
    assert [u["id"] for u in await driver.unfinished()] == [orphan_id]
    assert (await driver.unfinished())[0]["in_progress"] is False
    left = carrier_resources(fake, orphan_id)
    assert len(left["profiles"]) == len(left["connections"]) == 1

    fake.clear_faults()
    reply = await driver.setup()
    assert reply.status_code == 200, reply.data
    assert_nothing_left(fake, orphan_id, only_setup=True)
    record = await driver.journal(orphan_id)
    assert record["state"] == "rolled_back"
    (new_setup,) = await driver.journal_for_provider(reply.data["id"])
    sweep = record["cleanup"][-1]
    assert sweep["by"] == f"sweep by setup {new_setup['id']}" and sweep["complete"] is True
    assert sweep["deleted"] == [
        {"kind": "ip_connection", "id": left["connections"][0]["id"]},
        {"kind": "outbound_voice_profile", "id": left["profiles"][0]["id"]},
    ]
    swept = [s for s in new_setup["steps"] if s["step"] == "orphans_swept"]
    assert swept[0]["orphans"] == [{"setup_id": orphan_id, "state": "rolled_back", "deleted": 2}]
    assert await driver.unfinished() == []


async def test_an_orphan_that_never_asked_the_carrier_is_closed_without_carrier_calls(
    fake: FakeTelnyx, driver: SetupDriver, clean_journal: None
) -> None:
    orphan_id = await plant_orphan(driver, "pending", ["key_checked"], {})
    reply = await driver.setup()
    assert reply.status_code == 200, reply.data
    record = await driver.journal(orphan_id)
    assert record["state"] == "rolled_back"
    assert record["cleanup"][-1]["note"] == "no carrier resource was requested"
    # No lookup was spent on it: the carrier saw only the new setup's own calls.
    assert ("GET", "/v2/ip_connections") not in fake.calls()


async def test_an_orphan_this_key_cannot_see_stays_unfinished_and_foreign_resources_stay(
    fake: FakeTelnyx, driver: SetupDriver, clean_journal: None
) -> None:
    # The orphan's resources live in another carrier account.
    other_key = f"KEY_OTHER_{uuid.uuid4().hex}"
    fake.set_key(other_key, account="acct-other")
    orphan_id = str(uuid.uuid4())
    async with TelnyxClient(other_key, base_url=fake.base_url) as other:
        profile = await other.create_outbound_voice_profile("theirs", ["US"], [tag_of(orphan_id)])
    await plant_orphan(
        driver,
        "ovp_created",
        ["creates_requested"],
        {"telnyx_profile_id": profile.id},
        setup_id=orphan_id,
    )
    # Resources in the presented key's account that no journal row names.
    async with TelnyxClient(VALID_KEY, base_url=fake.base_url) as mine:
        foreign = await mine.create_outbound_voice_profile(
            "someone else's", ["US"], [f"trunk-setup-{uuid.uuid4()}"]
        )
        untagged = await mine.create_outbound_voice_profile("manual", ["US"], [])

    reply = await driver.setup()
    assert reply.status_code == 200, reply.data
    record = await driver.journal(orphan_id)
    assert record["state"] == "ovp_created"  # not marked clean on a guess
    assert record["cleanup"][-1]["note"] == "nothing found with the presented key"
    assert record["cleanup"][-1]["not_found"] == [
        {"kind": "outbound_voice_profile", "id": profile.id}
    ]
    ids = {p["id"] for p in fake.ovps()}
    assert {profile.id, foreign.id, untagged.id} <= ids
    assert [u["id"] for u in await driver.unfinished()] == [orphan_id]
