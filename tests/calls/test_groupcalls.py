"""agent and extension destinations become Groupcalls; fake agent-manager and
registrar-manager consumers answer the lookups."""

from __future__ import annotations

from typing import Any

import aiohttp
from shared.sip.testing.sipp import SippProcess

from tests.support.calls import (
    Directory,
    SippFactory,
    call_body,
    create_provider,
    get_json,
    new_uuid,
    post_providercall,
    wait_call,
)
from tests.support.events import EventCollector
from tests.support.polling import eventually

ANSWERS = "+15550000001"
RINGS = "+15550000002"
BRIEF = [{"type": "pause", "option": {"duration": 300}}]


def _tel(number: str) -> dict[str, str]:
    return {"type": "tel", "target": number, "target_name": ""}


async def _call_agent(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    carrier: SippProcess,
    agent_id: str,
    **fields: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ProviderCall to agent `agent_id` through a provider at `carrier`: (provider, reply)."""
    provider = await create_provider(http, headers, carrier.target)
    body = call_body(provider["id"], **fields)
    body["destinations"] = [{"type": "agent", "target": agent_id}]
    return provider, await post_providercall(http, headers, body)


async def _group(
    http: aiohttp.ClientSession, headers: dict[str, str], groupcall_id: str, status: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = await get_json(http, f"/v1.0/groupcalls/{groupcall_id}", headers)
        return found if found["status"] == status else None

    return await eventually(probe, 20, message=f"groupcall {status}")


async def test_ring_all_hangs_up_the_others_on_first_answer(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
    directory: Directory,
    sipp: SippFactory,
    events: EventCollector,
) -> None:
    email = {"type": "email", "target": "x@y.z"}
    agent_id = directory.add_agent(
        admin_customer, [_tel(RINGS), _tel(ANSWERS), email], ring_method="ringall"
    )
    async with sipp("uas_answer_or_ring.xml") as carrier:
        provider, created = await _call_agent(
            calls_api, admin_headers, carrier, agent_id, actions=BRIEF
        )
        assert created["call_ids"] == [] and len(created["groupcall_ids"]) == 1
        group = await _group(calls_api, admin_headers, created["groupcall_ids"][0], "hangup")
        assert carrier.errors() == ""
    assert group["ring_method"] == "ring_all" and group["owner_id"] == agent_id
    assert len(group["call_ids"]) == 2
    calls = {
        c["destination"]["target"]: c
        for c in [
            await get_json(calls_api, f"/v1.0/calls/{cid}", admin_headers)
            for cid in group["call_ids"]
        ]
    }
    assert group["answer_call_id"] == calls[ANSWERS]["id"]
    assert calls[ANSWERS]["hangup_reason"] == "normal"
    assert calls[RINGS]["hangup_reason"] == "cancel"
    assert all(
        c["groupcall_id"] == group["id"] and c["provider_id"] == provider["id"]
        for c in calls.values()
    )
    await events.wait_for("groupcall_created", id=group["id"])
    await events.wait_for("groupcall_progressing", id=group["id"])
    await events.wait_for("groupcall_hangup", id=group["id"])


async def test_linear_tries_addresses_in_turn(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
    directory: Directory,
    sipp: SippFactory,
) -> None:
    agent_id = directory.add_agent(
        admin_customer, [_tel(RINGS), _tel(ANSWERS)], ring_method="linear"
    )
    async with sipp("uas_answer_or_ring.xml") as carrier:
        _, created = await _call_agent(calls_api, admin_headers, carrier, agent_id, actions=BRIEF)
        groupcall_id = created["groupcall_ids"][0]
        first = await get_json(calls_api, f"/v1.0/groupcalls/{groupcall_id}", admin_headers)
        assert len(first["call_ids"]) == 1  # the second address waits its turn
        group = await _group(calls_api, admin_headers, groupcall_id, "hangup")
    assert group["ring_method"] == "linear" and group["dial_index"] == 1
    first_call, second_call = [
        await get_json(calls_api, f"/v1.0/calls/{cid}", admin_headers) for cid in group["call_ids"]
    ]
    assert first_call["destination"]["target"] == RINGS
    assert first_call["hangup_reason"] == "noanswer"
    assert second_call["destination"]["target"] == ANSWERS
    assert group["answer_call_id"] == second_call["id"]


async def test_extension_dials_its_contacts_and_failures_are_reported(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
    directory: Directory,
    sipp: SippFactory,
) -> None:
    extension_id = new_uuid()
    async with sipp("uas_answer_or_ring.xml") as carrier:
        directory.extensions[extension_id] = {
            "id": extension_id,
            "customer_id": admin_customer,
            "extension": "2001",
        }
        directory.contacts[(admin_customer, "2001")] = [
            {"uri": f"sip:{ANSWERS}@{carrier.target}^3Btransport=udp"}
        ]
        foreign_agent = directory.add_agent(new_uuid(), [_tel(ANSWERS)])
        provider = await create_provider(calls_api, admin_headers, carrier.target)
        body = call_body(provider["id"], actions=BRIEF)
        body["destinations"] = [
            {"type": "agent", "target": new_uuid()},
            {"type": "extension", "target": extension_id},
            {"type": "agent", "target": foreign_agent},
        ]
        created = await post_providercall(calls_api, admin_headers, body)
        assert [f["index"] for f in created["failed_destinations"]] == [0, 2]
        assert "not found" in created["failed_destinations"][0]["reason"]
        group = await _group(calls_api, admin_headers, created["groupcall_ids"][0], "hangup")
        invite = carrier.received("INVITE")[0]
    assert invite.start_line == f"INVITE sip:{ANSWERS}@{carrier.target} SIP/2.0"
    call = await get_json(calls_api, f"/v1.0/calls/{group['call_ids'][0]}", admin_headers)
    assert call["destination"]["type"] == "sip"
    assert group["answer_call_id"] == call["id"]


async def test_request_fails_only_when_no_destination_can_be_called(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], directory: Directory
) -> None:
    provider = await create_provider(calls_api, admin_headers, "127.0.0.1:9")
    body = call_body(provider["id"])
    body["destinations"] = [{"type": "agent", "target": new_uuid()}]
    error = (await post_providercall(calls_api, admin_headers, body, 422))["error"]
    assert error["reason"] == "NO_DESTINATION_DIALABLE"
    assert error["details"]["failed_destinations"][0]["index"] == 0


async def test_groupcall_hangup_cancels_every_ringing_call(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
    directory: Directory,
    sipp: SippFactory,
) -> None:
    agent_id = directory.add_agent(admin_customer, [_tel(RINGS), _tel("+15550000003")])
    async with sipp("uas_answer_or_ring.xml") as carrier:
        _, created = await _call_agent(calls_api, admin_headers, carrier, agent_id)
        groupcall_id = created["groupcall_ids"][0]
        group = await get_json(calls_api, f"/v1.0/groupcalls/{groupcall_id}", admin_headers)
        for call_id in group["call_ids"]:
            await wait_call(calls_api, admin_headers, call_id, "ringing")
        async with calls_api.post(
            f"/v1.0/groupcalls/{groupcall_id}/hangup", headers=admin_headers
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] in ("hangingup", "hangup")
        await _group(calls_api, admin_headers, groupcall_id, "hangup")
        assert len(carrier.received("CANCEL")) == 2
    for call_id in group["call_ids"]:
        call = await get_json(calls_api, f"/v1.0/calls/{call_id}", admin_headers)
        assert (call["hangup_reason"], call["hangup_by"]) == ("cancel", "local")
