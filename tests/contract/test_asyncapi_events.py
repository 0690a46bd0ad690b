"""Events as subscribers receive them match /asyncapi.json: type, exchange and schema."""

from __future__ import annotations

from typing import Any

import aiohttp
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.events import EventCollector
from tests.support.providers import provider_body


async def _send(
    http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], body: Any = None
) -> Any:
    async with http.request(method, path, json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_received_events_are_the_documented_ones(
    http: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    events: EventCollector,
    exchanges: dict[str, str],
) -> None:
    provider = await _send(http, "POST", "/v1.0/providers", admin_headers, provider_body())
    path = f"/v1.0/providers/{provider['id']}"
    await _send(http, "PUT", path, admin_headers, {"name": "renamed"})
    route = await _send(
        http, "POST", "/v1.0/routes", admin_headers, {"provider_id": provider["id"], "target": "+1"}
    )
    await _send(http, "DELETE", f"/v1.0/routes/{route['id']}", admin_headers)
    await _send(http, "DELETE", path, admin_headers)
    for kind in ("provider_created", "provider_updated", "provider_deleted", "route_deleted"):
        await events.wait_for(
            kind, id=provider["id"] if kind.startswith("provider") else route["id"]
        )

    async with http.get("/asyncapi.json") as resp:
        assert resp.status == 200
        document = await resp.json()
    root: Resource[Any] = DRAFT202012.create_resource(document)
    registry: Registry[Any] = Registry().with_resource("urn:asyncapi", root)
    mine = [
        e for e in events.events if (e.get("data") or {}).get("id") in (provider["id"], route["id"])
    ]
    assert len(mine) >= 5
    for event in mine:
        message = document["components"]["messages"][event["type"]]
        channel = document["channels"][event["publisher"]]
        assert channel["address"] == exchanges[event["publisher"]]
        assert event["type"] in channel["messages"]
        validator = Draft202012Validator(
            {"$ref": f"urn:asyncapi{message['payload']['$ref']}"}, registry=registry
        )
        errors = [e.message for e in validator.iter_errors(event)]
        assert not errors, (event["type"], errors)
