"""The JSON the console reads: the fleet board, per-provider call metrics, the event stream."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from scripts import carriers
from tests.support.calls import post_providercall, wait_call
from tests.support.polling import eventually
from tests.support.providers import ProviderApi


def call(provider_id: str, seconds: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider_id": provider_id,
        "source": {"type": "tel", "target": "+15550000100"},
        "destinations": [{"type": "tel", "target": "+15550000001"}],
    }
    if seconds is not None:
        body["actions"] = [
            {"type": "pause", "option": {"duration": int(seconds * 1000)}},
            {"type": "hangup"},
        ]
    return body


async def test_call_metrics_count_answers_failures_and_post_dial_delay(
    http: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    providers: ProviderApi,
    tmp_path: Path,
) -> None:
    async with carriers.busy(tmp_path, max_runtime=60) as busy:
        provider = await providers.create(busy.target)
        for _ in range(2):
            placed = await post_providercall(http, admin_headers, call(provider["id"]))
            await wait_call(http, admin_headers, placed["call_ids"][0], "hangup")
    url = f"/v1.0/providers/{provider['id']}/call_metrics?window_seconds=600"
    async with http.get(url, headers=admin_headers) as resp:
        assert resp.status == 200, await resp.text()
        metrics = await resp.json()
    assert metrics["attempts"] == 2 and metrics["answered"] == 0
    assert metrics["asr"] == 0.0
    assert metrics["failures"] == [{"sip_status_code": 486, "sip_reason": "Busy Here", "count": 2}]
    # The busy carrier rings (180) before refusing: that is the post-dial delay.
    pdd = metrics["post_dial_delay_ms"]
    assert pdd["count"] == 2 and pdd["avg"] is not None and 0 <= pdd["avg"] < 2000

    async with http.get(
        f"/v1.0/providers/{provider['id']}/call_metrics?window_seconds=5", headers=admin_headers
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["details"]["field"] == "window_seconds"
    async with http.get(
        f"/v1.0/providers/{uuid.uuid4()}/call_metrics", headers=admin_headers
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["attempts"] == 0


async def test_board_has_probe_state_of_every_provider(
    http: aiohttp.ClientSession,
    admin_headers: dict[str, str],
    providers: ProviderApi,
    tmp_path: Path,
) -> None:
    async with carriers.answering(tmp_path, max_runtime=60) as answering:
        up = await providers.create(answering.target)
        never = await providers.create("127.0.0.1:9")  # discard port: nothing answers

        async def board() -> dict[str, dict[str, Any]] | None:
            async with http.get("/console/api/board", headers=admin_headers) as resp:
                assert resp.status == 200
                body = await resp.json()
            rows = {row["id"]: row for row in body["result"]}
            ok = (
                rows.get(up["id"], {}).get("rtt_ms") is not None
                and (rows.get(never["id"], {}).get("consecutive_failures") or 0) >= 1
            )
            return rows if ok else None

        rows = await eventually(board, 30, 0.2, "probe state on the board")
    assert rows[up["id"]]["health_status"] == "healthy"
    assert rows[up["id"]]["consecutive_failures"] == 0
    assert rows[never["id"]]["rtt_ms"] is None


async def test_event_stream_relays_domain_events(
    console_url: str, admin_token: str, providers: ProviderApi
) -> None:
    seen: list[dict[str, Any]] = []
    async with (
        aiohttp.ClientSession(base_url=console_url, cookies={"token": admin_token}) as browserish,
        browserish.get("/console/api/events") as stream,
    ):
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert await stream.content.readline() == b"retry: 2000\n"
        created = await providers.create("127.0.0.1:5994")

        async def read_until_created() -> None:
            async for raw in stream.content:
                line = raw.decode().strip()
                if line.startswith("data: {") and '"type"' in line:
                    envelope = json.loads(line[len("data: ") :])
                    seen.append(envelope)
                    if envelope["type"] == "provider_created":
                        return

        await asyncio.wait_for(read_until_created(), 10)
    assert seen[-1]["data"]["id"] == created["id"]
