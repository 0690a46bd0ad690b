"""ProviderCall records: validation, provider checks, idempotency, list/get/delete."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.support.calls import (
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

PROVIDER = "4dbeabd6-f397-4375-95d2-a38411e07ed1"
GOOD = call_body(PROVIDER, "+821012345678")


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({k: v for k, v in GOOD.items() if k != "provider_id"}, "provider_id"),
    (_with(provider_id="not-a-uuid"), "provider_id"),
    (_with(flow_id="xyz"), "flow_id"),
    (_with(destinations=[]), "destinations"),
    (_with(destinations=[{"type": "tel", "target": "+1"}] * 101), "destinations"),
    (_with(destinations=[{"type": "tel", "target": "12345678"}]), "destinations.0.target"),
    (_with(destinations=[{"type": "tel", "target": "+1234567890123456"}]), "destinations.0.target"),
    (_with(destinations=[{"type": "sip", "target": "no-at-sign"}]), "destinations.0.target"),
    (_with(destinations=[{"type": "sip", "target": "a@bad host"}]), "destinations.0.target"),
    (_with(destinations=[{"type": "email", "target": "a@b.c"}]), "destinations.0.type"),
    (_with(destinations=[{"type": "agent", "target": "bob"}]), "destinations.0.target"),
    (
        _with(destinations=[{"type": "tel", "target": "+821012345678", "target_name": "a\r\nb"}]),
        "destinations.0.target_name",
    ),
    (_with(anonymous="maybe"), "anonymous"),
    (
        _with(anonymous="yes", source={"type": "sip", "target": "alice@example.com"}),
        "source",
    ),
    (_with(source={"type": "tel", "target": "anonymous"}), "source.target"),
    (_with(source={"type": "agent", "target": PROVIDER}), "source.type"),
    ({k: v for k, v in GOOD.items() if k != "source"} | {"anonymous": "yes"}, "source"),
    (_with(anonymous="yes", source=None), "source"),
    (_with(actions=[{"type": "talk", "option": {"text": "hi"}}]), "actions.0"),
    (_with(actions=[{"type": "pause", "option": {}}]), "actions.0.pause.option.duration"),
    (
        _with(actions=[{"type": "pause", "option": {"duration": -1}}]),
        "actions.0.pause.option.duration",
    ),
    (_with(actions="hangup"), "actions"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_every_bad_body_is_a_400_naming_the_field(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], body: Any, field: str
) -> None:
    async with calls_api.post("/v1.0/providercalls", json=body, headers=admin_headers) as resp:
        error = (await resp.json())["error"]
        assert resp.status == 400, error
    assert error["details"]["field"] == field
    assert error["message"].startswith(f"{field}:")


async def test_call_manager_applies_the_same_rules_over_rpc(
    rpc: Any, queues: dict[str, str], calls_api: aiohttp.ClientSession
) -> None:
    response = await rpc.call(
        queues["call-manager"],
        "POST",
        "/v1/providercalls",
        {
            **_with(anonymous="yes", source={"type": "sip", "target": "a@b.com"}),
            "customer_id": new_uuid(),
        },
    )
    assert response.status_code == 400
    assert response.data["details"]["field"] == "source"
    missing = await rpc.call(queues["call-manager"], "POST", "/v1/providercalls", GOOD)
    assert (missing.status_code, missing.data["details"]["field"]) == (400, "customer_id")


async def test_unknown_and_deleted_providers_are_404(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str]
) -> None:
    missing = await post_providercall(
        calls_api, admin_headers, call_body(new_uuid(), "+14155550000"), 404
    )
    assert missing["error"]["reason"] == "PROVIDER_NOT_FOUND"
    provider = await create_provider(calls_api, admin_headers, "127.0.0.1:9")
    async with calls_api.delete(f"/v1.0/providers/{provider['id']}", headers=admin_headers) as r:
        assert r.status == 200
    gone = await post_providercall(
        calls_api, admin_headers, call_body(provider["id"], "+14155550000"), 404
    )
    assert gone["error"]["reason"] == "PROVIDER_NOT_FOUND"


async def test_customer_id_in_the_body_is_ignored(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    admin_customer: str,
    sipp: SippFactory,
) -> None:
    async with sipp("uas_busy.xml") as carrier:
        provider = await create_provider(calls_api, admin_headers, carrier.target)
        body = {**call_body(provider["id"], "+821012345678"), "customer_id": new_uuid()}
        created = await post_providercall(calls_api, admin_headers, body)
        await wait_call(calls_api, admin_headers, created["call_ids"][0], "hangup")
    assert created["customer_id"] == admin_customer


async def test_idempotency_key_dials_once(
    calls_api: aiohttp.ClientSession, admin_headers: dict[str, str], sipp: SippFactory
) -> None:
    async with sipp("uas_busy.xml") as carrier:
        provider = await create_provider(calls_api, admin_headers, carrier.target)
        body = call_body(provider["id"], "+821055556666")
        headers = {**admin_headers, "Idempotency-Key": f"retry-{new_uuid()}"}

        async def post() -> dict[str, Any]:
            return await post_providercall(calls_api, headers, body)

        concurrent = await asyncio.gather(post(), post(), post())
        again = await post()
        ids = {r["id"] for r in [*concurrent, again]}
        assert len(ids) == 1
        assert len({tuple(r["call_ids"]) for r in [*concurrent, again]}) == 1
        await wait_call(calls_api, admin_headers, again["call_ids"][0], "hangup")
        await eventually(lambda: _async(len(carrier.received("ACK")) >= 1), 5)
        assert len(carrier.received("INVITE")) == 1
        async with calls_api.post(
            "/v1.0/providercalls",
            json=call_body(provider["id"], "+821077778888"),
            headers=headers,
        ) as resp:
            assert resp.status == 422
            assert (await resp.json())["error"]["reason"] == "IDEMPOTENCY_KEY_REUSED"
        async with calls_api.post(
            "/v1.0/providercalls", json=body, headers={**admin_headers, "Idempotency-Key": "a b"}
        ) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["details"]["field"] == "Idempotency-Key"


async def test_list_filter_get_and_soft_delete(
    calls_api: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    sipp: SippFactory,
    events: EventCollector,
) -> None:
    async with sipp("uas_busy.xml") as carrier:
        provider = await create_provider(calls_api, admin_headers, carrier.target)
        first = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], "+821000000011")
        )
        second = await post_providercall(
            calls_api, admin_headers, call_body(provider["id"], "+821000000012")
        )
        for created in (first, second):
            await wait_call(calls_api, admin_headers, created["call_ids"][0], "hangup")
    page = await get_json(
        calls_api, f"/v1.0/providercalls?provider_id={provider['id']}&page_size=1", admin_headers
    )
    assert [p["id"] for p in page["result"]] == [second["id"]]
    assert page["next_page_token"]
    rest = await get_json(
        calls_api,
        f"/v1.0/providercalls?provider_id={provider['id']}&page_token={page['next_page_token']}",
        admin_headers,
    )
    assert [p["id"] for p in rest["result"]] == [first["id"]]
    # A non-empty page always carries its last item's position; the page after it is empty.
    assert rest["next_page_token"].startswith(first["tm_create"])
    after = await get_json(
        calls_api,
        f"/v1.0/providercalls?provider_id={provider['id']}&page_token={rest['next_page_token']}",
        admin_headers,
    )
    assert after == {"result": [], "next_page_token": ""}
    async with calls_api.delete(f"/v1.0/providercalls/{first['id']}", headers=admin_headers) as r:
        deleted = await r.json()
        assert r.status == 200
    assert deleted["tm_delete"] is not None
    after = await get_json(
        calls_api, f"/v1.0/providercalls?provider_id={provider['id']}", admin_headers
    )
    assert [p["id"] for p in after["result"]] == [second["id"]]
    still = await get_json(calls_api, f"/v1.0/calls/{first['call_ids'][0]}", admin_headers)
    assert still["tm_delete"] is None  # the calls are not touched
    await events.wait_for("providercall_created", id=first["id"])
    await events.wait_for("providercall_deleted", id=first["id"])
    await get_json(calls_api, f"/v1.0/providercalls/{new_uuid()}", admin_headers, 404)
    await get_json(calls_api, "/v1.0/providercalls/not-a-uuid", admin_headers, 400)


async def _async(value: Any) -> Any:
    return value
