"""provider-manager driven over RPC only, as other platform services call it.

Real PostgreSQL and RabbitMQ; the `rpc` fixture is a plain RpcClient on the broker and the
service is the session's in-process provider-manager.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from provider_manager.app import ProviderManagerApp
from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcClient

from tests.support.events import EventCollector
from tests.support.providers import provider_body

pytestmark = pytest.mark.usefixtures("provider_manager")


async def _error(rpc: RpcClient, queue: str, method: str, uri: str, data: Any = None) -> AppError:
    with pytest.raises(AppError) as caught:
        await rpc.request(queue, method, uri, data)
    return caught.value


async def test_crud_over_rpc(
    rpc: RpcClient, queues: dict[str, str], events: EventCollector
) -> None:
    queue = queues["provider-manager"]
    created = await rpc.request(
        queue, "POST", "/v1/providers", provider_body(tech_headers={"X-Account": "42"})
    )
    provider_id = created["id"]
    assert uuid.UUID(provider_id).version == 4
    assert created["health_status"] == "unknown"
    assert created["health_checked_at"] is None
    assert created["metadata"] == {}
    assert created["tm_delete"] == "9999-01-01 00:00:00.000000"
    assert created["tm_create"] == created["tm_update"]

    assert await rpc.request(queue, "GET", f"/v1/providers/{provider_id}") == created

    updated = await rpc.request(
        queue, "PUT", f"/v1/providers/{provider_id}", {"name": "renamed", "tech_prefix": "9"}
    )
    assert updated["name"] == "renamed"
    assert updated["tech_prefix"] == "9"
    assert updated["hostname"] == created["hostname"]
    assert updated["tm_update"] > created["tm_update"]

    listed = await rpc.request(queue, "GET", "/v1/providers?page_size=100")
    assert provider_id in {p["id"] for p in listed["result"]}

    deleted = await rpc.request(queue, "DELETE", f"/v1/providers/{provider_id}")
    assert deleted["tm_delete"] != "9999-01-01 00:00:00.000000"
    again = await rpc.request(queue, "GET", f"/v1/providers/{provider_id}")
    assert again == deleted

    await events.wait_for("provider_deleted", id=provider_id)
    assert len(events.of_type("provider_created", id=provider_id)) == 1
    assert len(events.of_type("provider_updated", id=provider_id)) == 1


async def test_replies_carry_status_codes(rpc: RpcClient, queues: dict[str, str]) -> None:
    queue = queues["provider-manager"]
    response = await rpc.call(queue, "POST", "/v1/providers", provider_body())
    assert response.status_code == 200
    assert response.data_type == "application/json"
    missing = await rpc.call(queue, "GET", f"/v1/providers/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.data["status"] == "NOT_FOUND"
    assert missing.data["reason"] == "PROVIDER_NOT_FOUND"


async def test_unknown_uri_is_404(rpc: RpcClient, queues: dict[str, str]) -> None:
    queue = queues["provider-manager"]
    for uri in ("/v1/nothing", "/v2/providers", "/v1/providers/a/b", "/"):
        err = await _error(rpc, queue, "GET", uri)
        assert err.status is ErrorStatus.NOT_FOUND, uri
        assert err.reason == "URI_NOT_FOUND"


async def test_unknown_provider_is_404(rpc: RpcClient, queues: dict[str, str]) -> None:
    queue = queues["provider-manager"]
    unknown = uuid.uuid4()
    for method, data in (("GET", None), ("PUT", {"name": "x"}), ("DELETE", None)):
        err = await _error(rpc, queue, method, f"/v1/providers/{unknown}", data)
        assert err.status is ErrorStatus.NOT_FOUND
        assert err.reason == "PROVIDER_NOT_FOUND"


async def test_wrong_method_is_405(rpc: RpcClient, queues: dict[str, str]) -> None:
    queue = queues["provider-manager"]
    for method, uri in (
        ("PATCH", "/v1/providers"),
        ("DELETE", "/v1/providers"),
        ("PUT", "/v1/providers"),
        ("POST", f"/v1/providers/{uuid.uuid4()}"),
        ("PATCH", f"/v1/providers/{uuid.uuid4()}"),
    ):
        err = await _error(rpc, queue, method, uri)
        assert err.status is ErrorStatus.METHOD_NOT_ALLOWED, (method, uri)


@pytest.mark.parametrize(
    ("method", "uri", "data", "field"),
    [
        ("POST", "/v1/providers", {"hostname": "sip.example.com"}, "type"),
        ("POST", "/v1/providers", {"type": "iax", "hostname": "sip.example.com"}, "type"),
        ("POST", "/v1/providers", {"type": "sip"}, "hostname"),
        ("POST", "/v1/providers", {"type": "sip", "hostname": "sip://x.com"}, "hostname"),
        ("POST", "/v1/providers", provider_body(name="n" * 256), "name"),
        ("POST", "/v1/providers", provider_body(tech_prefix="a b"), "tech_prefix"),
        ("POST", "/v1/providers", provider_body(tech_postfix="\x01"), "tech_postfix"),
        ("POST", "/v1/providers", provider_body(tech_headers={"Via": "x"}), "tech_headers"),
        ("POST", "/v1/providers", provider_body(tech_headers={"X-A": 5}), "tech_headers"),
        ("POST", "/v1/providers", provider_body(tech_headers={"X-A": "a\r\nb"}), "tech_headers"),
        ("POST", "/v1/providers", [], "body"),
        ("POST", "/v1/providers", "text", "body"),
        ("GET", "/v1/providers/not-a-uuid", None, "id"),
        ("DELETE", "/v1/providers/not-a-uuid", None, "id"),
        ("PUT", "/v1/providers/not-a-uuid", {"name": "x"}, "id"),
        ("GET", "/v1/providers?page_size=0", None, "page_size"),
        ("GET", "/v1/providers?page_size=101", None, "page_size"),
        ("GET", "/v1/providers?page_size=abc", None, "page_size"),
        ("GET", "/v1/providers?page_token=yesterday", None, "page_token"),
    ],
)
async def test_bad_requests_are_400(
    rpc: RpcClient,
    queues: dict[str, str],
    method: str,
    uri: str,
    data: Any,
    field: str,
) -> None:
    err = await _error(rpc, queues["provider-manager"], method, uri, data)
    assert err.status is ErrorStatus.INVALID_ARGUMENT
    if field == "body":
        assert err.reason == "INVALID_JSON_BODY"
    else:
        assert field in err.message


async def test_bad_update_changes_nothing(rpc: RpcClient, queues: dict[str, str]) -> None:
    queue = queues["provider-manager"]
    created = await rpc.request(queue, "POST", "/v1/providers", provider_body())
    uri = f"/v1/providers/{created['id']}"
    for bad in ({"hostname": "a b"}, {"type": "iax"}, {"tech_headers": {"To": "x"}}, [1]):
        err = await _error(rpc, queue, "PUT", uri, bad)
        assert err.http_status == 400
    assert await rpc.request(queue, "GET", uri) == created


async def test_malformed_envelope_is_400(
    rpc: RpcClient, broker: Any, queues: dict[str, str]
) -> None:
    """A peer that sends something other than the envelope still gets a reply."""
    import aio_pika

    channel = await broker.channel()
    try:
        reply_queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for body in (b"not json", b'{"uri": "/v1/providers"}', b'{"method": "GET"}'):
            await channel.default_exchange.publish(
                aio_pika.Message(body, reply_to=reply_queue.name, correlation_id="c1"),
                routing_key=queues["provider-manager"],
            )
            message = await _next(reply_queue)
            assert message.correlation_id == "c1"
            assert b'"status_code":400' in message.body
    finally:
        await channel.close()


async def _next(queue: Any) -> Any:
    async with asyncio.timeout(5):
        while True:
            message = await queue.get(fail=False, no_ack=True)
            if message is not None:
                return message
            await asyncio.sleep(0.02)


async def test_redelivered_create_makes_one_provider_and_one_event(
    rpc: RpcClient, queues: dict[str, str], events: EventCollector
) -> None:
    """The same broker message twice (a redelivery) yields the same provider, created once."""
    queue = queues["provider-manager"]
    message_id = uuid.uuid4().hex
    body = provider_body()
    first = await rpc.request(queue, "POST", "/v1/providers", body, message_id=message_id)
    second = await rpc.request(queue, "POST", "/v1/providers", body, message_id=message_id)
    assert first == second
    assert first["id"] == str(uuid.UUID(message_id))
    page = await rpc.request(queue, "GET", "/v1/providers?page_size=100")
    assert sum(p["hostname"] == body["hostname"] for p in page["result"]) == 1
    # Barrier: the relay publishes in outbox order, so once this later event is here, any
    # second provider_created would have arrived before it.
    await rpc.request(queue, "PUT", f"/v1/providers/{first['id']}", {"name": "barrier"})
    await events.wait_for("provider_updated", id=first["id"])
    assert len(events.of_type("provider_created", id=first["id"])) == 1


async def test_many_concurrent_calls_on_one_client(rpc: RpcClient, queues: dict[str, str]) -> None:
    queue = queues["provider-manager"]
    seed = await rpc.request(queue, "POST", "/v1/providers", provider_body())
    creates = [
        rpc.request(queue, "POST", "/v1/providers", provider_body(name=f"c{i}")) for i in range(100)
    ]
    reads = [rpc.request(queue, "GET", f"/v1/providers/{seed['id']}") for _ in range(100)]
    results = await asyncio.gather(*creates, *reads)
    created, read = results[:100], results[100:]
    # Every reply went to its own caller: names match requests, ids are all distinct.
    assert [c["name"] for c in created] == [f"c{i}" for i in range(100)]
    assert len({c["id"] for c in created}) == 100
    assert all(r == seed for r in read)


async def test_ops_endpoints(provider_manager: ProviderManagerApp) -> None:
    import aiohttp

    port = provider_manager.bound_ops_port
    assert port
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        async with http.get("/healthz") as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ok"}
        async with http.get("/readyz") as resp:
            assert resp.status == 200
            assert await resp.json() == {
                "status": "ok",
                "checks": {"database": True, "broker": True},
            }
        async with http.get("/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
    assert "rpc_server_requests_total" in text
    assert "rpc_server_request_seconds_bucket" in text


async def test_concurrent_gets_each_get_their_own_provider(
    rpc: RpcClient, queues: dict[str, str]
) -> None:
    """GETs arriving together share one query (shared.read_batching); each still gets its
    own row, a repeated id the same row, and an unknown id its own 404."""
    queue = queues["provider-manager"]
    made = [
        await rpc.request(queue, "POST", "/v1/providers", provider_body(name=f"batch {n}"))
        for n in range(6)
    ]
    unknown = str(uuid.uuid4())
    asked = [p["id"] for p in made] + [made[0]["id"], unknown, made[5]["id"]]
    answers = await asyncio.gather(
        *(rpc.request(queue, "GET", f"/v1/providers/{pid}") for pid in asked),
        return_exceptions=True,
    )
    for pid, answer in zip(asked, answers, strict=True):
        if pid == unknown:
            assert isinstance(answer, AppError) and answer.http_status == 404
            assert unknown in answer.message
        else:
            assert isinstance(answer, dict) and answer["id"] == pid
    assert answers[0] == made[0] and answers[6] == made[0]


async def test_reading_more_ids_than_one_statement_takes(
    rpc: RpcClient, queues: dict[str, str], provider_manager: ProviderManagerApp
) -> None:
    """find_many splits a long batch into statements of at most 64 ids and pads the last."""
    from provider_manager.repositories.providers import ProviderRepository
    from shared.db import autocommit_engine

    queue = queues["provider-manager"]
    made = [
        (await rpc.request(queue, "POST", "/v1/providers", provider_body(name=f"many {n}")))["id"]
        for n in range(3)
    ]
    asked = [str(uuid.uuid4()) for _ in range(64)] + made + [str(uuid.uuid4()) for _ in range(4)]
    async with autocommit_engine(provider_manager.sessions).connect() as conn:
        found = await ProviderRepository(conn).find_many(asked)
    assert sorted(found) == sorted(made)
    assert all(found[pid]["id"] == pid for pid in made)


async def test_batched_reads_stay_index_lookups_in_a_cached_plan(
    provider_manager: ProviderManagerApp,
) -> None:
    """The plan PostgreSQL caches for a batch statement (the generic one, made once per
    connection, kept however the table grows) looks each id up in the primary key; an IN
    list's generic plan on a small table was a sequential scan kept at 20,000 rows."""
    from provider_manager.repositories.providers import _BY_IDS_SQL
    from shared.db import autocommit_engine

    async with autocommit_engine(provider_manager.sessions).connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        async with driver.transaction():
            await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            for size in (1, 2, 64):
                await driver.execute(f"PREPARE batch_plan_{size} AS {_BY_IDS_SQL[size]}")
                ids = ", ".join(f"'{uuid.uuid4()}'" for _ in range(size))
                rows = await driver.fetch(f"EXPLAIN EXECUTE batch_plan_{size}({ids})")
                await driver.execute(f"DEALLOCATE batch_plan_{size}")
                plan = "\n".join(row[0] for row in rows)
                assert "Seq Scan" not in plan, plan
                assert plan.count("Index Scan using providers_pkey") == size, plan
