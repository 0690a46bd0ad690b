"""The fake Telnyx server itself: raw HTTP behaviour, admin API and the separate-process mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from provider_manager.telnyx import TelnyxClient

from tests.support.telnyx_fake import (
    FORBIDDEN_KEY,
    VALID_KEY,
    FakeConfig,
    FakeTelnyx,
    FakeTelnyxProcess,
)

AUTH = {"Authorization": f"Bearer {VALID_KEY}"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    fake: FakeTelnyx,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with http.request(
        method, fake.base_url + path, json=body, headers=AUTH if headers is None else headers
    ) as resp:
        return resp.status, await resp.json()


def first_error(body: Any) -> dict[str, Any]:
    err: dict[str, Any] = body["errors"][0]
    return err


async def test_auth_errors_use_telnyx_texts(fake: FakeTelnyx, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, fake, "GET", "/balance", headers={})
    assert status == 401 and first_error(body)["code"] == "10009"
    assert "not included in the request" in first_error(body)["detail"]
    status, body = await call(http, fake, "GET", "/ips", headers={"Authorization": "Bearer nope"})
    assert (
        status == 401
        and first_error(body)["detail"] == "Could not understand the provided credentials."
    )
    assert first_error(body)["meta"]["url"].endswith("/10009")
    forbidden = {"Authorization": f"Bearer {FORBIDDEN_KEY}"}
    status, body = await call(http, fake, "GET", "/ips", headers=forbidden)
    assert status == 403 and first_error(body)["code"] == "10010"
    assert first_error(body)["source"] == {"pointer": "/"}
    assert [r.auth for r in fake.requests] == ["missing", "unknown", "forbidden"]


async def test_validation_pointers_and_relationships(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    status, ovp = await call(http, fake, "POST", "/outbound_voice_profiles", {"name": "main"})
    assert status == 200 and ovp["data"]["whitelisted_destinations"] == ["US", "CA"]
    ovp_id = ovp["data"]["id"]

    bad_dnis = {"inbound": {"dnis_number_format": "test"}}
    status, body = await call(http, fake, "POST", "/ip_connections", bad_dnis)
    assert status == 422 and first_error(body)["source"] == {
        "pointer": "/inbound/dnis_number_format"
    }
    assert first_error(body)["detail"] == (
        "Invalid dnis_format: test, was provided. Acceptable formats are +e164, e164, national, "
        "sip_username"
    )
    status, body = await call(http, fake, "POST", "/ip_connections", {"transport_protocol": "X"})
    assert status == 422 and first_error(body)["source"]["pointer"] == "/transport_protocol"

    status, conn = await call(
        http,
        fake,
        "POST",
        "/ip_connections",
        {"connection_name": "c1", "outbound": {"outbound_voice_profile_id": ovp_id}},
    )
    assert status == 201
    assert conn["data"]["inbound"]["dnis_number_format"] == "e164"  # Telnyx's plus-less default
    conn_id = conn["data"]["id"]
    status, body = await call(http, fake, "GET", f"/outbound_voice_profiles/{ovp_id}")
    assert body["data"]["connections_count"] == 1

    status, body = await call(http, fake, "POST", "/ips", {"connection_id": conn_id})
    assert status == 422 and first_error(body)["source"]["pointer"] == "/ip_address"
    status, ip = await call(
        http, fake, "POST", "/ips", {"connection_id": conn_id, "ip_address": "192.0.2.1"}
    )
    assert status == 201 and ip["data"]["port"] == 5060 and ip["data"]["record_type"] == "ip"

    # Children first: parents with children are refused (configurable).
    status, body = await call(http, fake, "DELETE", f"/ip_connections/{conn_id}")
    assert status == 422
    fake.state.config.refuse_delete_with_children = False
    status, body = await call(http, fake, "DELETE", f"/ip_connections/{conn_id}")
    assert status == 200 and body["data"]["id"] == conn_id
    status, body = await call(http, fake, "GET", f"/outbound_voice_profiles/{ovp_id}")
    assert body["data"]["connections_count"] == 0
    status, body = await call(http, fake, "GET", f"/ip_connections/{conn_id}")
    assert status == 404 and first_error(body)["code"] == "10005"


async def test_pagination_meta_and_bad_page_size(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    for i in range(3):
        await call(
            http, fake, "POST", "/outbound_voice_profiles", {"name": f"p-{i}", "tags": ["t"]}
        )
    status, body = await call(
        http, fake, "GET", "/outbound_voice_profiles?page[size]=2&page[number]=2"
    )
    assert status == 200 and [p["name"] for p in body["data"]] == ["p-2"]
    assert body["meta"] == {"page_number": 2, "page_size": 2, "total_pages": 2, "total_results": 3}
    status, body = await call(http, fake, "GET", "/outbound_voice_profiles?page[size]=251")
    assert status == 422 and first_error(body)["source"] == {"parameter": "page[size]"}
    status, body = await call(
        http, fake, "GET", "/outbound_voice_profiles?filter[name][contains]=P-1"
    )
    assert [p["name"] for p in body["data"]] == ["p-1"]


async def test_accounts_do_not_see_each_other(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    other_key = "KEYother-account-0000000000000000"
    fake.set_key(other_key, "ok", account="acct-other")
    other = {"Authorization": f"Bearer {other_key}"}
    _, ovp = await call(http, fake, "POST", "/outbound_voice_profiles", {"name": "mine"})
    status, _ = await call(
        http, fake, "GET", f"/outbound_voice_profiles/{ovp['data']['id']}", headers=other
    )
    assert status == 404
    _, body = await call(http, fake, "GET", "/outbound_voice_profiles", headers=other)
    assert body["data"] == []


async def test_fail_the_nth_call_and_bad_json(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    fake.add_fault(method="POST", path="/v2/outbound_voice_profiles", status=500, skip=1, times=1)
    results = [
        (await call(http, fake, "POST", "/outbound_voice_profiles", {"name": f"n-{i}"}))[0]
        for i in range(3)
    ]
    assert results == [200, 500, 200]
    assert len(fake.ovps()) == 2
    async with http.post(fake.base_url + "/ips", data=b"{not json", headers=AUTH) as resp:
        assert resp.status == 400
        assert (await resp.json())["errors"][0]["code"] == "10015"


async def test_unapproved_countries_detail(fake: FakeTelnyx, http: aiohttp.ClientSession) -> None:
    fake.state.config.unapproved_countries = ["US", "CA"]
    body = {"name": "intl", "whitelisted_destinations": ["GB", "US", "CA"]}
    status, resp = await call(http, fake, "POST", "/outbound_voice_profiles", body)
    assert status == 422
    assert first_error(resp)["detail"].endswith("to use the following countries: US, CA")


async def test_separate_process_with_admin_api() -> None:
    async with FakeTelnyxProcess(args=["--unapproved-countries", "CA"]) as proc:
        assert proc.base_url.startswith("http://127.0.0.1:") and proc.base_url.endswith("/v2")
        admin = proc.admin
        await admin.configure(keys=[{"key": "KEYproc-only-123456789012", "mode": "ok"}])
        await admin.add_faults({"method": "POST", "path": "/v2/ips", "status": 503, "times": 1})
        async with TelnyxClient(VALID_KEY, base_url=proc.base_url) as client:
            ovp = await client.create_outbound_voice_profile("proc-profile", ["US", "CA"], ["t-1"])
            assert ovp.whitelisted_destinations == ["US"]
            conn = await client.create_ip_connection("proc-conn", ovp.id, ["t-1"])
            await client.create_ip(conn.id, "192.0.2.7")
        async with TelnyxClient("KEYproc-only-123456789012", base_url=proc.base_url) as client:
            assert (await client.check_key()).billing_access is True

        state = await admin.state()
        assert [c["id"] for c in state["ip_connections"]] == [conn.id]
        assert len(state["ips"]) == 1 and state["keys"] == {"count": 4}
        assert "KEYproc-only" not in str(state)
        log = await admin.requests()
        assert [(r["method"], r["route"], r["status"]) for r in log][-4:] == [
            ("POST", "/v2/ips", 503),
            ("GET", "/v2/ips", 200),
            ("POST", "/v2/ips", 201),
            ("GET", "/v2/balance", 200),
        ]
        await admin.reset()
        assert (await admin.state())["ips"] == []
        pid = proc.pid
        assert pid is not None
    assert proc.pid is None


def test_config_defaults() -> None:
    config = FakeConfig()
    assert config.refuse_delete_with_children is True and config.unapproved_countries == []
