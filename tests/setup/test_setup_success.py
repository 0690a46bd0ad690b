"""Carrier setup that works: the seeds' response, the metadata the fake issued, the event,
the journal, what exists at the carrier; restricted keys, unapproved countries, concurrency."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp

from tests.support.carrier_setup import (
    EGRESS,
    SEED_PROVIDER_FIELDS,
    SetupDriver,
    carrier_resources,
    setup_body,
    tag_of,
)
from tests.support.events import EventCollector
from tests.support.polling import eventually
from tests.support.telnyx_fake import RESTRICTED_KEY, FakeTelnyx


def setup_id_of(journal: list[dict[str, Any]]) -> str:
    (record,) = journal
    setup_id: str = record["id"]
    return setup_id


async def test_setup_through_the_gateway_returns_the_seed_shape_with_the_fake_ids(
    fake: FakeTelnyx,
    driver: SetupDriver,
    setup_http: aiohttp.ClientSession,
    setup_events: EventCollector,
) -> None:
    async with setup_http.post("/v1.0/providers/setup", json=setup_body()) as resp:
        assert resp.status == 200, await resp.text()
        provider = await resp.json()

    assert set(provider) == SEED_PROVIDER_FIELDS
    assert provider["type"] == "sip"
    assert provider["hostname"] == "sip.telnyx.com"
    assert (provider["tech_prefix"], provider["tech_postfix"], provider["tech_headers"]) == (
        "",
        "",
        {},
    )
    assert provider["name"] == "My Telnyx Trunk"
    assert provider["detail"] == "Primary outbound Telnyx SIP trunk"
    assert provider["health_status"] == "unknown"
    assert provider["tm_delete"] == "9999-01-01 00:00:00.000000"

    # The metadata holds exactly the ids the fake issued.
    (profile,) = fake.ovps()
    (connection,) = fake.connections()
    ips = fake.ips()
    assert provider["metadata"] == {
        "telnyx_profile_id": profile["id"],
        "telnyx_connection_id": connection["id"],
        "telnyx_ip_ids": [ip["id"] for ip in ips],
    }
    # What was created at the carrier, and how.
    setup_id = setup_id_of(await driver.journal_for_provider(provider["id"]))
    tag = tag_of(setup_id)
    assert profile["tags"] == [tag] and tag in profile["name"]
    assert profile["name"].startswith("My Telnyx Trunk ")
    assert profile["whitelisted_destinations"] == ["US", "CA"]
    assert connection["tags"] == [tag] and tag in connection["connection_name"]
    assert connection["outbound"]["outbound_voice_profile_id"] == profile["id"]
    assert connection["inbound"]["ani_number_format"] == "+E.164"
    assert connection["inbound"]["dnis_number_format"] == "+e164"
    assert [f"{ip['ip_address']}:{ip['port']}" for ip in ips] == list(EGRESS)
    assert {ip["connection_id"] for ip in ips} == {connection["id"]}
    assert fake.calls() == [
        ("GET", "/v2/balance"),
        ("POST", "/v2/outbound_voice_profiles"),
        ("POST", "/v2/ip_connections"),
        ("POST", "/v2/ips"),
        ("POST", "/v2/ips"),
    ]

    (event,) = await setup_events.wait_for("provider_created", id=provider["id"])
    assert event["data"] == provider

    # The journal is done and names the same resources; the provider reads back the same.
    record = await driver.journal(setup_id)
    assert record["state"] == "done" and record["in_progress"] is False
    assert record["resources"] == provider["metadata"]
    assert [s["step"] for s in record["steps"]] == [
        "key_checked",
        "creates_requested",
        "ovp_created",
        "connection_created",
        "ip_created",
        "ip_created",
        "ips_created",
        "provider_created",
    ]
    async with setup_http.get(f"/v1.0/providers/{provider['id']}") as resp:
        assert resp.status == 200
        assert await resp.json() == provider


async def test_restricted_key_without_billing_access_still_sets_up(
    fake: FakeTelnyx, driver: SetupDriver
) -> None:
    reply = await driver.setup(setup_body(key=RESTRICTED_KEY))
    assert reply.status_code == 200, reply.data
    assert fake.calls()[:2] == [("GET", "/v2/balance"), ("GET", "/v2/outbound_voice_profiles")]
    record = (await driver.journal_for_provider(reply.data["id"]))[0]
    assert record["steps"][0] == {**record["steps"][0], "billing_access": False}


async def test_unapproved_countries_are_dropped_and_setup_still_works(
    fake: FakeTelnyx, driver: SetupDriver
) -> None:
    fake.state.config.unapproved_countries = ["CA"]
    reply = await driver.setup()
    assert reply.status_code == 200, reply.data
    (profile,) = fake.ovps()
    assert profile["whitelisted_destinations"] == ["US"]
    assert reply.data["metadata"]["telnyx_profile_id"] == profile["id"]
    assert (
        fake.calls("POST", "/v2/outbound_voice_profiles")
        == [("POST", "/v2/outbound_voice_profiles")] * 2
    )


async def test_two_setups_with_the_same_name_at_once_both_work(
    fake: FakeTelnyx, driver: SetupDriver
) -> None:
    first, second = await asyncio.gather(
        driver.setup(setup_body(name="Twin")), driver.setup(setup_body(name="Twin"))
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.data, second.data)
    assert first.data["id"] != second.data["id"]
    assert first.data["name"] == second.data["name"] == "Twin"
    for reply in (first, second):
        setup_id = setup_id_of(await driver.journal_for_provider(reply.data["id"]))
        mine = carrier_resources(fake, setup_id)
        assert [p["id"] for p in mine["profiles"]] == [reply.data["metadata"]["telnyx_profile_id"]]
        assert [c["id"] for c in mine["connections"]] == [
            reply.data["metadata"]["telnyx_connection_id"]
        ]
        assert sorted(i["id"] for i in mine["ips"]) == sorted(
            reply.data["metadata"]["telnyx_ip_ids"]
        )
    # Same display name, different carrier names: the setup id keeps them apart.
    names = [p["name"] for p in fake.ovps()]
    assert len(set(names)) == 2 and all(n.startswith("Twin ") for n in names)


async def test_a_live_setup_is_never_swept_by_another(
    fake: FakeTelnyx, driver: SetupDriver
) -> None:
    """A slow setup is unfinished while it runs; a second setup must leave it alone."""
    delay = fake.add_fault(method="POST", path="/v2/ips", action="delay", delay=0.8, times=1)
    slow = asyncio.create_task(driver.setup(setup_body(name="Slow")))

    async def slow_is_held_at_its_first_ip() -> list[dict[str, Any]] | None:
        live = [u for u in await driver.unfinished() if u["name"] == "Slow"]
        return live if delay.fired and live and live[0]["state"] == "connection_created" else None

    (live,) = await eventually(slow_is_held_at_its_first_ip, timeout=10)
    assert live["in_progress"] is True
    fast = await driver.setup(setup_body(name="Fast"))
    assert fast.status_code == 200, fast.data
    slow_reply = await slow
    assert slow_reply.status_code == 200, slow_reply.data
    # Both trunks are whole: nothing of the slow one was deleted by the fast one's sweep.
    assert fake.calls("DELETE") == []
    assert len(fake.ovps()) == len(fake.connections()) == 2 and len(fake.ips()) == 4
    record = await driver.journal(live["id"])
    assert record["state"] == "done" and record["cleanup"] == []


async def test_a_redelivered_request_answers_the_same_provider_without_new_resources(
    fake: FakeTelnyx, driver: SetupDriver
) -> None:
    message_id = uuid.uuid4().hex
    first = await driver.setup(message_id=message_id)
    assert first.status_code == 200, first.data
    created = len(fake.requests)
    again = await driver.setup(message_id=message_id)
    assert again.status_code == 200 and again.data == first.data
    assert len(fake.requests) == created  # no carrier call at all
    assert len(await driver.journal_for_provider(first.data["id"])) == 1


async def test_setups_are_listed_over_rpc(driver: SetupDriver, fake: FakeTelnyx) -> None:
    reply = await driver.setup()
    assert reply.status_code == 200
    listed = await driver.call("GET", "/v1/providers/setups?state=done&page_size=1")
    assert listed.status_code == 200
    assert listed.data["result"][0]["provider_id"] == reply.data["id"]
    assert listed.data["next_page_token"]
    bad = await driver.call("GET", "/v1/providers/setups?state=sideways")
    assert bad.status_code == 400 and bad.data["details"] == {"field": "state"}
    missing = await driver.call("GET", f"/v1/providers/setups/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.data["reason"] == "SETUP_NOT_FOUND"
