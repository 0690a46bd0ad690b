"""TelnyxClient against the fake Telnyx server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import structlog
from aiohttp import web
from provider_manager.telnyx import (
    KeyCheck,
    RetryPolicy,
    TelnyxClient,
    TelnyxError,
    TelnyxKeyRejected,
    TelnyxNotFound,
    TelnyxRateLimited,
    TelnyxUnavailable,
    TelnyxValidationError,
)
from provider_manager.telnyx.client import _server_wait

from tests.support.telnyx_fake import (
    FORBIDDEN_KEY,
    RESTRICTED_KEY,
    VALID_KEY,
    FakeTelnyx,
)

OVPS = "/v2/outbound_voice_profiles"
CONNS = "/v2/ip_connections"
IPS = "/v2/ips"
TAG = "setup-7f3c2a10-5b1e-4c8e-9d3a-0e6f1b2c3d4e"

FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.005, max_server_wait=5.0)


class SleepRecorder:
    """Stands in for asyncio.sleep: records the delays the client asks for, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


ClientFactory = Callable[..., TelnyxClient]


@pytest.fixture
async def make_client(fake: FakeTelnyx) -> AsyncIterator[ClientFactory]:
    clients: list[TelnyxClient] = []

    def factory(key: str = VALID_KEY, **kwargs: Any) -> TelnyxClient:
        kwargs.setdefault("base_url", fake.base_url)
        kwargs.setdefault("retry", FAST)
        kwargs.setdefault("timeout", 2.0)
        kwargs.setdefault("rng", random.Random(7))
        client = TelnyxClient(key, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> TelnyxClient:
    return make_client()


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def statuses(fake: FakeTelnyx) -> list[tuple[str, str, int | None]]:
    return [(r.method, r.route, r.status) for r in fake.requests]


# --------------------------------------------------------------------------------------------
# Key check


async def test_check_key_valid(fake: FakeTelnyx, client: TelnyxClient) -> None:
    result = await client.check_key()
    assert isinstance(result, KeyCheck)
    assert result.billing_access is True
    assert result.balance is not None and result.balance.currency == "USD"
    assert statuses(fake) == [("GET", "/v2/balance", 200)]


async def test_check_key_unknown_key_is_rejected_without_retry(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    with pytest.raises(TelnyxKeyRejected) as info:
        await make_client("KEYnot-a-real-key-0000000000").check_key()
    err = info.value
    assert (err.status, err.code, err.title) == (401, "10009", "Authentication failed")
    assert err.detail == "Could not understand the provided credentials."
    assert statuses(fake) == [("GET", "/v2/balance", 401)]


async def test_check_key_restricted_key_is_accepted_after_voice_probe(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    result = await make_client(RESTRICTED_KEY).check_key()
    assert result == KeyCheck(billing_access=False, balance=None)
    assert statuses(fake) == [("GET", "/v2/balance", 403), ("GET", OVPS, 200)]
    assert fake.requests[1].query == {"page[size]": "1"}


async def test_check_key_forbidden_everywhere_is_rejected(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    with pytest.raises(TelnyxKeyRejected) as info:
        await make_client(FORBIDDEN_KEY).check_key()
    assert (info.value.status, info.value.code) == (403, "10010")
    assert statuses(fake) == [("GET", "/v2/balance", 403), ("GET", OVPS, 403)]


async def test_check_key_retries_transient_balance_failure(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    fake.add_fault(method="GET", path="/v2/balance", status=503, times=1)
    assert (await client.check_key()).billing_access is True
    assert statuses(fake) == [("GET", "/v2/balance", 503), ("GET", "/v2/balance", 200)]


# --------------------------------------------------------------------------------------------
# Happy path and rollback


async def test_full_setup_and_reverse_rollback(fake: FakeTelnyx, client: TelnyxClient) -> None:
    ovp = await client.create_outbound_voice_profile(f"voip-{TAG}", ["US", "CA"], [TAG])
    conn = await client.create_ip_connection(f"voip-{TAG}", ovp.id, [TAG])
    ip1 = await client.create_ip(conn.id, "203.0.113.10", 5060)
    ip2 = await client.create_ip(conn.id, "203.0.113.11", 5080)

    assert ovp.id.isdigit() and ovp.record_type == "outbound_voice_profile"
    assert ovp.whitelisted_destinations == ["US", "CA"] and ovp.tags == [TAG]
    assert conn.id.isdigit() and conn.outbound_voice_profile_id == ovp.id
    assert conn.inbound.ani_number_format == "+E.164"
    assert conn.inbound.dnis_number_format == "+e164"
    assert (ip1.connection_id, ip1.ip_address, ip1.port) == (conn.id, "203.0.113.10", 5060)
    assert ip2.port == 5080 and len(ip1.id) == 36
    assert (await client.get_outbound_voice_profile(ovp.id)).connections_count == 1
    assert (await client.get_ip_connection(conn.id)).id == conn.id
    assert (await client.get_ip(ip1.id)).ip_address == "203.0.113.10"

    # The exact request bodies Telnyx receives.
    posted = {r.route: r.json for r in fake.requests if r.method == "POST"}
    assert posted[OVPS] == {
        "name": f"voip-{TAG}",
        "traffic_type": "conversational",
        "service_plan": "global",
        "usage_payment_method": "rate-deck",
        "whitelisted_destinations": ["US", "CA"],
        "tags": [TAG],
    }
    assert posted[CONNS]["inbound"] == {
        "ani_number_format": "+E.164",
        "dnis_number_format": "+e164",
    }
    assert posted[CONNS]["outbound"] == {"outbound_voice_profile_id": ovp.id}
    assert posted[CONNS]["tags"] == [TAG]

    # Rollback in reverse order; every DELETE answers 200 with the deleted object.
    assert (await client.delete_ip(ip2.id)) == ip2
    assert (await client.delete_ip(ip1.id)) == ip1
    deleted_conn = await client.delete_ip_connection(conn.id)
    assert deleted_conn is not None and deleted_conn.id == conn.id
    deleted_ovp = await client.delete_outbound_voice_profile(ovp.id)
    assert deleted_ovp is not None and deleted_ovp.id == ovp.id
    assert fake.ovps() == fake.connections() == fake.ips() == []

    writes = [(m, route, s) for (m, route, s) in statuses(fake) if m != "GET"]
    assert writes == [
        ("POST", OVPS, 200),
        ("POST", CONNS, 201),
        ("POST", IPS, 201),
        ("POST", IPS, 201),
        ("DELETE", "/v2/ips/{id}", 200),
        ("DELETE", "/v2/ips/{id}", 200),
        ("DELETE", "/v2/ip_connections/{id}", 200),
        ("DELETE", "/v2/outbound_voice_profiles/{id}", 200),
    ]


async def test_token_authenticated_connection(fake: FakeTelnyx, client: TelnyxClient) -> None:
    ovp = await client.create_outbound_voice_profile("tok-profile", ["US"], [TAG])
    token = "Tk-4b1d7e9a0c2f4e6a8b0d"
    conn = await client.create_ip_connection(
        "tok-conn", ovp.id, [TAG], ip_authentication_token=token
    )
    assert conn.outbound.ip_authentication_method == "token"
    assert conn.outbound.ip_authentication_token == token
    assert token not in repr(conn)


# --------------------------------------------------------------------------------------------
# Validation


async def test_validation_errors_carry_pointer(fake: FakeTelnyx, client: TelnyxClient) -> None:
    with pytest.raises(TelnyxValidationError) as info:
        await client.create_outbound_voice_profile("ab", ["US"], [TAG])
    assert (info.value.status, info.value.code, info.value.pointer) == (422, "10015", "/name")
    assert "minimum is 3" in (info.value.detail or "")

    with pytest.raises(TelnyxValidationError) as info:
        await client.create_ip_connection("conn-x", "1234567890", [TAG])
    assert info.value.pointer == "/outbound/outbound_voice_profile_id"

    with pytest.raises(TelnyxValidationError) as info:
        await client.create_ip("1234567890", "203.0.113.10")
    assert info.value.pointer == "/connection_id"

    ovp = await client.create_outbound_voice_profile("good-name", ["US"], [TAG])
    with pytest.raises(TelnyxValidationError) as info:
        await client.create_ip_connection("conn-y", ovp.id, [TAG], transport_protocol="SCTP")
    assert info.value.pointer == "/transport_protocol"
    # 422s are final: one request each, nothing created but the one good profile.
    assert [s for (_, _, s) in statuses(fake)] == [422, 422, 422, 200, 422]
    assert len(fake.ovps()) == 1 and fake.connections() == []


async def test_unapproved_countries_are_dropped_and_create_retried(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    fake.state.config.unapproved_countries = ["US", "CA"]
    ovp = await client.create_outbound_voice_profile("intl", ["US", "GB", "CA", "DE"], [TAG])
    assert ovp.whitelisted_destinations == ["GB", "DE"]
    posts = [r for r in fake.requests if r.method == "POST"]
    assert [p.status for p in posts] == [422, 200]
    assert posts[1].json["whitelisted_destinations"] == ["GB", "DE"]
    assert len(fake.ovps()) == 1


async def test_unapproved_countries_never_leave_an_empty_list(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    fake.state.config.unapproved_countries = ["US", "CA"]
    with pytest.raises(TelnyxValidationError) as info:
        await client.create_outbound_voice_profile("intl", ["us", "CA"], [TAG])
    assert info.value.unapproved_countries == ("US", "CA")
    assert info.value.pointer == "/whitelisted_destinations"
    assert len(fake.calls("POST")) == 1


async def test_unapproved_country_retries_are_bounded(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    fake.state.config.unapproved_countries = ["US", "CA", "GB"]
    # One country refused per answer would need three rounds; allow only one retry.
    fake.add_fault(method="POST", path=OVPS, status=503, times=0)  # inert, proves no interference
    with pytest.raises(TelnyxValidationError):
        await client.create_outbound_voice_profile(
            "intl", ["US", "CA", "GB", "DE"], [TAG], max_country_retries=0
        )
    assert len(fake.calls("POST")) == 1


# --------------------------------------------------------------------------------------------
# Rate limiting and retries


async def test_429_twice_then_success_honours_reset(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    sleeps = SleepRecorder()
    client = make_client(sleep=sleeps)
    fault = fake.add_fault(method="POST", path=OVPS, status=429, times=2, ratelimit_reset=2)
    ovp = await client.create_outbound_voice_profile("rate-limited", ["US"], [TAG])
    assert fault.fired == 2
    # A 429 means Telnyx did not act: the POST is simply re-sent (no lookup in between).
    assert statuses(fake) == [("POST", OVPS, 429), ("POST", OVPS, 429), ("POST", OVPS, 200)]
    assert len(sleeps.delays) == 2
    assert all(2.0 <= d <= 2.0 + FAST.base_delay for d in sleeps.delays)
    assert [o["id"] for o in fake.ovps()] == [ovp.id]


async def test_429_headers_on_the_wire(fake: FakeTelnyx) -> None:
    import aiohttp

    fake.add_fault(method="GET", path="/v2/balance", status=429, ratelimit_reset=1, retry_after=3)
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            fake.base_url + "/balance", headers={"Authorization": f"Bearer {VALID_KEY}"}
        ) as resp,
    ):
        body = await resp.json()
        assert resp.status == 429
        assert resp.headers["x-ratelimit-remaining"] == "0"
        assert resp.headers["x-ratelimit-reset"] == "1"
        assert resp.headers["retry-after"] == "3"
        assert "x-ratelimit-limit" in resp.headers
    assert body["errors"][0]["code"] == "10011"


async def test_429_with_excessive_reset_gives_up_at_once(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    sleeps = SleepRecorder()
    client = make_client(sleep=sleeps)
    fake.add_fault(method="GET", path="/v2/balance", status=429, times=None, ratelimit_reset=3600)
    with pytest.raises(TelnyxRateLimited) as info:
        await client.check_key()
    assert info.value.retry_after == 3600
    assert info.value.attempts == 1 and sleeps.delays == []
    assert "3600" in info.value.reason


async def test_persistent_429_raises_rate_limited_after_max_attempts(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    sleeps = SleepRecorder()
    client = make_client(sleep=sleeps)
    fake.add_fault(method="GET", path=CONNS, status=429, times=None, ratelimit_reset=0)
    with pytest.raises(TelnyxRateLimited) as info:
        await client.find_ip_connections(TAG)
    assert isinstance(info.value, TelnyxUnavailable)
    assert (info.value.status, info.value.code, info.value.attempts) == (429, "10011", 4)
    assert len(fake.calls("GET", CONNS)) == 4 and len(sleeps.delays) == 3


async def test_backoff_is_exponential_jittered_and_capped(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    sleeps = SleepRecorder()
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=4.0)
    client = make_client(sleep=sleeps, retry=policy)
    fake.add_fault(method="GET", path=IPS, status=500, times=5)
    assert await client.find_ips("123") == []
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(sleeps.delays) == 5
    for delay, ceiling in zip(sleeps.delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(sleeps.delays)) > 1  # jittered


async def test_503_on_get_is_retried(fake: FakeTelnyx, client: TelnyxClient) -> None:
    ovp = await client.create_outbound_voice_profile("p-503", ["US"], [TAG])
    fake.add_fault(method="GET", path=OVPS, status=503, times=2)
    found = await client.find_outbound_voice_profiles(TAG)
    assert [p.id for p in found] == [ovp.id]
    assert [s for (m, _, s) in statuses(fake) if m == "GET"] == [503, 503, 200]


async def test_get_timeout_is_retried(fake: FakeTelnyx, make_client: ClientFactory) -> None:
    client = make_client(timeout=0.2)
    fake.add_fault(method="GET", path="/v2/balance", action="delay", delay=5, times=1)
    assert (await client.check_key()).billing_access is True
    assert fake.requests[0].cancelled and fake.requests[1].status == 200


async def test_failing_after_retries_is_unavailable_with_reason(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    fake.add_fault(method="GET", path="/v2/balance", status=503, times=None)
    with pytest.raises(TelnyxUnavailable) as info:
        await client.check_key()
    err = info.value
    assert (err.status, err.attempts, err.outcome_unknown) == (503, 4, False)
    assert "HTTP 503" in err.reason and "Service Unavailable" in err.reason
    assert "unavailable after 4 attempt(s)" in str(err)
    assert len(fake.calls("GET", "/v2/balance")) == 4


async def test_non_json_5xx_is_unavailable_with_reason(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    fake.add_fault(method="GET", path=IPS, status=502, times=None, envelope=False)
    with pytest.raises(TelnyxUnavailable) as info:
        await client.find_ips("123")
    assert info.value.status == 502 and "502 Bad Gateway" in info.value.reason
    assert info.value.code is None


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unreachable_base_url_is_unavailable(make_client: ClientFactory, method: str) -> None:
    sleeps = SleepRecorder()
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}/v2", sleep=sleeps)
    with pytest.raises(TelnyxUnavailable) as info:
        if method == "GET":
            await client.check_key()
        else:
            await client.create_ip("123", "203.0.113.10")
    err = info.value
    assert err.status is None and err.attempts == 4
    # Nothing was sent, so even the POST is plainly retried and its outcome is known.
    assert err.outcome_unknown is False
    assert "Cannot connect" in err.reason or "Connect" in err.reason
    assert len(sleeps.delays) == 3


# --------------------------------------------------------------------------------------------
# Ambiguous POSTs: adopt instead of duplicating


async def _create(kind: str, client: TelnyxClient, fake: FakeTelnyx) -> tuple[str, str]:
    """Create one resource of ``kind`` (parents set up first, with faults not yet armed)."""
    if kind == "ovp":
        return OVPS, (await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])).id
    ovp = await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])
    if kind == "connection":
        fake.add_fault(method="POST", path=CONNS, action="commit_then_drop")
        return CONNS, (await client.create_ip_connection(f"c-{TAG}", ovp.id, [TAG])).id
    conn = await client.create_ip_connection(f"c-{TAG}", ovp.id, [TAG])
    fake.add_fault(method="POST", path=IPS, action="commit_then_drop")
    return IPS, (await client.create_ip(conn.id, "203.0.113.10", 5060)).id


@pytest.mark.parametrize("kind", ["ovp", "connection", "ip"])
async def test_ambiguous_post_drop_adopts_instead_of_duplicating(
    fake: FakeTelnyx, client: TelnyxClient, kind: str
) -> None:
    if kind == "ovp":
        fake.add_fault(method="POST", path=OVPS, action="commit_then_drop")
    route, created_id = await _create(kind, client, fake)
    stored = {OVPS: fake.ovps, CONNS: fake.connections, IPS: fake.ips}[route]()
    assert [r["id"] for r in stored] == [created_id]  # exactly one, and it is the adopted one
    tail = [(r.method, r.route, r.dropped) for r in fake.requests if r.route == route]
    assert tail == [("POST", route, True), ("GET", route, False)]


async def test_ambiguous_post_timeout_adopts(fake: FakeTelnyx, make_client: ClientFactory) -> None:
    client = make_client(timeout=0.3)
    fake.add_fault(method="POST", path=OVPS, action="commit_then_delay", delay=5)
    ovp = await client.create_outbound_voice_profile(f"slow-{TAG}", ["US"], [TAG])
    assert [o["id"] for o in fake.ovps()] == [ovp.id]
    assert [(r.method, r.route) for r in fake.requests] == [("POST", OVPS), ("GET", OVPS)]


async def test_post_5xx_looks_up_before_sending_again(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    ovp = await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])
    fake.add_fault(method="POST", path=CONNS, status=500, times=1)  # refused, nothing created
    conn = await client.create_ip_connection(f"c-{TAG}", ovp.id, [TAG])
    assert statuses(fake)[1:] == [("POST", CONNS, 500), ("GET", CONNS, 200), ("POST", CONNS, 201)]
    assert [c["id"] for c in fake.connections()] == [conn.id]


async def test_adoption_requires_exact_name_and_tags(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    # A look-alike created by someone else must not be adopted.
    await client.create_outbound_voice_profile(f"p-{TAG}-other", ["US"], [TAG])
    await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], ["someone-else"])
    fake.add_fault(method="POST", path=OVPS, status=503, times=1)
    ovp = await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])
    assert ovp.name == f"p-{TAG}" and ovp.tags == [TAG]
    assert len(fake.ovps()) == 3


async def test_post_failing_after_retries_reports_unknown_outcome(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    ovp = await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])
    conn = await client.create_ip_connection(f"c-{TAG}", ovp.id, [TAG])
    fake.add_fault(method="POST", path=IPS, status=503, times=None)
    with pytest.raises(TelnyxUnavailable) as info:
        await client.create_ip(conn.id, "203.0.113.10")
    assert info.value.outcome_unknown is True and info.value.attempts == 4
    assert fake.ips() == []
    # Each re-send is preceded by a lookup, and a last lookup happens before giving up.
    ip_calls = [m for (m, route, _) in statuses(fake) if route == IPS]
    assert ip_calls == ["POST", "GET", "POST", "GET", "POST", "GET", "POST", "GET"]


async def test_failing_lookup_after_ambiguous_post_is_unavailable(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    fake.add_fault(method="POST", path=OVPS, action="commit_then_drop")
    fake.add_fault(method="GET", path=OVPS, status=503, times=None)
    with pytest.raises(TelnyxUnavailable) as info:
        await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])
    assert info.value.outcome_unknown is True
    assert "could not check" in info.value.reason
    assert len(fake.ovps()) == 1  # created, and reported as possibly created
    assert len(fake.calls("POST")) == 1  # never re-sent blindly


# --------------------------------------------------------------------------------------------
# Deletes, finds, pagination


async def test_deletes_treat_404_as_already_gone(fake: FakeTelnyx, client: TelnyxClient) -> None:
    assert await client.delete_ip("6a09cdc3-8948-47f0-aa62-74ac943d6c58") is None
    assert await client.delete_ip_connection("1293384261075799999") is None
    assert await client.delete_outbound_voice_profile("1293384261075799998") is None
    assert [s for (_, _, s) in statuses(fake)] == [404, 404, 404]


async def test_bare_404_without_envelope_is_not_taken_as_gone(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    fake.add_fault(method="DELETE", path="*", status=404, envelope=False)
    with pytest.raises(TelnyxNotFound):
        await client.delete_ip("6a09cdc3-8948-47f0-aa62-74ac943d6c58")


async def test_ambiguous_delete_is_retried_and_404_then_counts_as_gone(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    ovp = await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])
    fake.add_fault(
        method="DELETE", path="/v2/outbound_voice_profiles/{id}", action="commit_then_drop"
    )
    assert await client.delete_outbound_voice_profile(ovp.id) is None
    assert fake.ovps() == []
    deletes = [(r.status, r.dropped) for r in fake.requests if r.method == "DELETE"]
    assert deletes[0] == (200, True) and deletes[-1] == (404, False)


async def test_delete_parent_before_children_is_refused(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    ovp = await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])
    conn = await client.create_ip_connection(f"c-{TAG}", ovp.id, [TAG])
    await client.create_ip(conn.id, "203.0.113.10")
    with pytest.raises(TelnyxValidationError):
        await client.delete_outbound_voice_profile(ovp.id)
    with pytest.raises(TelnyxValidationError):
        await client.delete_ip_connection(conn.id)
    assert len(fake.ovps()) == len(fake.connections()) == len(fake.ips()) == 1


async def test_find_helpers_paginate_and_filter(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    client = make_client(page_size=2)
    ovps = [
        await client.create_outbound_voice_profile(f"p{i}-{TAG}", ["US"], [TAG]) for i in range(5)
    ]
    await client.create_outbound_voice_profile("unrelated", ["US"], ["other"])
    conns = [await client.create_ip_connection(f"c{i}-{TAG}", ovps[0].id, [TAG]) for i in range(3)]
    ips = [await client.create_ip(conns[0].id, f"203.0.113.{i}") for i in range(1, 6)]
    await client.create_ip(conns[1].id, "198.51.100.1")
    fake.requests.clear()

    found_ovps = await client.find_outbound_voice_profiles(TAG)
    assert [p.id for p in found_ovps] == [p.id for p in ovps]
    assert [int(r.query["page[number]"]) for r in fake.requests] == [1, 2, 3]
    assert all(
        r.query["page[size]"] == "2" and r.query["filter[tag]"] == TAG for r in fake.requests
    )

    assert [c.id for c in await client.find_ip_connections(TAG)] == [c.id for c in conns]
    assert [c.id for c in await client.find_ip_connections(name_contains="c1-")] == [conns[1].id]
    assert len(await client.find_ip_connections(outbound_voice_profile_id=ovps[1].id)) == 0
    assert [ip.id for ip in await client.find_ips(conns[0].id)] == [ip.id for ip in ips]
    only = await client.find_ips(conns[0].id, ip_address="203.0.113.3", port=5060)
    assert [ip.id for ip in only] == [ips[2].id]
    assert await client.find_outbound_voice_profiles(name_contains="unrel") != []


async def test_find_filters_again_when_the_api_ignores_a_filter(
    fake: FakeTelnyx, client: TelnyxClient
) -> None:
    mine = await client.create_outbound_voice_profile(f"p-{TAG}", ["US"], [TAG])
    await client.create_outbound_voice_profile("customer-profile", ["US"], ["prod"])
    fake.state.config.ignored_filters = ["filter[tag]"]
    # Cleanup deletes what find returns: it must never widen to the customer's resources.
    assert [p.id for p in await client.find_outbound_voice_profiles(TAG)] == [mine.id]


async def test_too_many_pages_is_an_error_not_a_partial_list(
    fake: FakeTelnyx, make_client: ClientFactory
) -> None:
    client = make_client(page_size=1, max_pages=2)
    for i in range(3):
        await client.create_outbound_voice_profile(f"p{i}-{TAG}", ["US"], [TAG])
    with pytest.raises(TelnyxError, match="more than 2 pages"):
        await client.find_outbound_voice_profiles(TAG)


async def test_ids_cannot_change_the_path(fake: FakeTelnyx, client: TelnyxClient) -> None:
    assert await client.delete_ip("../balance") is None  # quoted: one segment, 404 -> gone
    assert fake.requests[-1].path == "/v2/ips/../balance"
    assert fake.requests[-1].route == "/v2/ips/{id}"
    with pytest.raises(ValueError):
        await client.delete_ip(" ")


# --------------------------------------------------------------------------------------------
# Secrets


async def _hostile_echo_server() -> tuple[web.AppRunner, str]:
    """A server that echoes the Authorization header back (also where a cut would split it)."""

    async def echo(request: web.Request) -> web.Response:
        leaked = request.headers.get("Authorization", "")
        headers = {"x-ratelimit-reset": "0"}
        if request.method == "DELETE":  # the key straddles the 500-character clip
            body = {"errors": [{"code": "10015", "detail": "x" * 495 + leaked}]}
            return web.json_response(body, status=400)
        if (
            request.method == "GET" and request.path == "/v2/ips"
        ):  # non-JSON, the key straddles the 200-character excerpt
            return web.Response(status=502, text="y" * 190 + leaked, headers=headers)
        status = 422 if request.method == "POST" else 503
        body = {"errors": [{"code": "10015", "title": leaked, "detail": f"bad key {leaked}"}]}
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}/v2"


async def test_api_key_never_appears_in_errors_reprs_or_logs(
    fake: FakeTelnyx,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "KEYsecret-canary-" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    fake.set_key(secret, "ok")
    caplog.set_level(logging.DEBUG)
    raised: list[BaseException] = []

    async def expect_error(call: Callable[[], Awaitable[Any]]) -> None:
        try:
            await call()
        except TelnyxError as exc:
            raised.append(exc)
        else:  # pragma: no cover - the scenario must fail
            pytest.fail("expected a TelnyxError")

    runner, hostile_url = await _hostile_echo_server()
    try:
        with structlog.testing.capture_logs() as logs:
            client = make_client(secret)
            ok = await client.check_key()  # success path logs too
            fake.add_fault(method="GET", path="/v2/balance", status=503, times=None)
            await expect_error(client.check_key)
            fake.clear_faults()
            fake.add_fault(method="POST", path=OVPS, action="commit_then_drop")
            fake.add_fault(method="GET", path=OVPS, status=500, times=None)
            await expect_error(lambda: client.create_outbound_voice_profile("p-x", ["US"], [TAG]))
            fake.clear_faults()
            await expect_error(lambda: client.create_outbound_voice_profile("ab", ["US"], [TAG]))
            await expect_error(make_client(secret + "-typo").check_key)
            unreachable = make_client(secret, base_url=f"http://127.0.0.1:{closed_port()}/v2")
            await expect_error(unreachable.check_key)
            hostile = make_client(secret, base_url=hostile_url)
            await expect_error(hostile.check_key)
            await expect_error(lambda: hostile.create_ip("1", "203.0.113.1"))
            await expect_error(lambda: hostile.delete_ip("1"))
            await expect_error(lambda: hostile.find_ips("1"))
            reprs = [repr(client), str(vars(client)), repr(ok)]
    finally:
        await runner.cleanup()

    assert len(raised) == 9
    for exc in raised:
        texts = [str(exc), repr(exc), repr(exc.args), repr(vars(exc))]
        if exc.__cause__ is not None or exc.__context__ is not None:
            texts.append(repr(exc.__cause__ or exc.__context__))
        for text in texts:
            assert secret not in text, text
    assert all("[REDACTED]" in str(e) for e in raised[-4:-2])  # echoed in full -> redacted
    for exc in raised:  # not even a prefix of the key survives a cut
        assert secret[:12] not in str(exc) + repr(vars(exc)), exc
    assert logs, "the client should log retries"
    assert secret not in json.dumps(logs, default=str)
    assert secret not in caplog.text
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    assert all(secret not in text for text in reprs)
    # The fake never records or returns the key either.
    assert secret not in json.dumps(fake.state.snapshot(), default=str)


# --------------------------------------------------------------------------------------------
# Pure helpers


def test_retry_policy_backoff_bounds() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=3.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        for _ in range(50):
            assert ceiling / 2 <= policy.backoff(attempt, rng) <= ceiling
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_server_wait_headers() -> None:
    assert _server_wait({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert _server_wait({"retry-after": "2", "x-ratelimit-reset": "9"}) == 2.0
    assert _server_wait({"x-ratelimit-reset": "0.25"}) == 0.25
    assert _server_wait({"x-ratelimit-reset": "-3"}) == 0.0
    epoch = _server_wait({"x-ratelimit-reset": str(int(time.time()) + 30)})
    assert epoch is not None and 25 <= epoch <= 31
    date = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    http_date = _server_wait({"retry-after": date})
    assert http_date is not None and 15 <= http_date <= 21
    assert _server_wait({"x-ratelimit-reset": "soon"}) is None
    assert _server_wait({}) is None


def test_client_rejects_bad_construction() -> None:
    with pytest.raises(ValueError):
        TelnyxClient("")
    with pytest.raises(ValueError):
        TelnyxClient("k", base_url="ftp://example.com")
    assert "KEY" not in repr(TelnyxClient("KEYabc", base_url="http://127.0.0.1:1/v2"))
