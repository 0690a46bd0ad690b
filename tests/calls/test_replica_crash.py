"""kill -9 of a replica holding answered calls: a survivor BYEs every carrier leg from the
stored dialogs; a replica that finds itself reaped drops its dialogs at once (fencing)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustConnection
from call_manager.app import CallManagerApp
from call_manager.repositories.dialogs import DialogRepository
from call_manager.services.recovery import finish_owned
from call_manager.tables import calls, dialogs, replicas
from shared.contracts.calls import CallCreate
from shared.rpc import Router, RpcClient, RpcContext, RpcServer
from shared.sip.parser import parse_message
from sqlalchemy import delete, select

from tests.support.calls import CALL_MANAGER_ENV, SippFactory, new_uuid
from tests.support.polling import eventually
from tests.support.replica_process import ReplicaProcess

CALLS = 5
FLOW = "8f2c1a7e-0000-4000-8000-000000000001"  # any non-nil flow keeps an answered call up


def _body(customer: str, port: int, count: int) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "flow_id": FLOW,
        "source": {"type": "tel", "target": "+14155551234"},
        "destinations": [
            {"type": "sip", "target": f"crash{i}@127.0.0.1:{port}"} for i in range(count)
        ],
    }


async def _statuses(app: CallManagerApp, ids: list[str]) -> dict[str, str]:
    async with app.sessions() as session:
        rows = (await session.execute(select(calls).where(calls.c.id.in_(ids)))).mappings().all()
    return {str(r["id"]): str(r["status"]) for r in rows}


@pytest.fixture
async def replica(
    platform_env: dict[str, Any],
    call_manager: CallManagerApp,
    tmp_path: Path,
    broker: AbstractRobustConnection,
) -> AsyncIterator[ReplicaProcess]:
    process = ReplicaProcess({**platform_env, **CALL_MANAGER_ENV}, tmp_path)
    # Its own prefix has no provider-manager: a stand-in answers the dial policy's one
    # question (which hosts are carriers: none here).
    carriers = Router()

    async def hostnames(_: RpcContext) -> dict[str, list[str]]:
        return {"hostnames": []}

    carriers.get("/v1/providers/hostnames", hostnames)
    stand_in = RpcServer(broker, f"{process.prefix}.provider-manager.request", carriers)
    await stand_in.start()
    await process.start(call_manager)
    yield process
    await process.stop()
    await stand_in.stop()


async def test_killed_replica_calls_get_a_bye_each(
    call_manager: CallManagerApp,
    replica: ReplicaProcess,
    rpc: RpcClient,
    sipp: SippFactory,
    admin_customer: str,
    admin_caller_id: str,
) -> None:
    await replica.wait_serving(rpc)
    async with sipp("uas_answer_hold.xml", calls=CALLS, max_runtime=60) as carrier:
        created = await rpc.request(
            replica.queue,
            "POST",
            "/v1/calls",
            _body(admin_customer, carrier.port, CALLS),
            timeout=10,
        )
        ids = [c["id"] for c in created["calls"]]
        assert len(ids) == CALLS

        async def answered() -> bool | None:
            found = await _statuses(call_manager, ids)
            return True if set(found.values()) == {"progressing"} else None

        try:
            await eventually(answered, 30, message="calls answered on the replica process")
        except AssertionError:
            print(replica.log_file.read_text()[-4000:], carrier.output()[-2000:])
            raise
        async with call_manager.sessions() as session:
            stored = await DialogRepository(session).of_live_calls(replica.replica_id)
        assert {str(r["call_id"]) for r in stored} == set(ids)  # what a BYE needs is stored

        killed_at = time.monotonic()
        replica.kill()
        # sipp exits 0 only when every call got its BYE and sent its 200
        assert await carrier.wait(45) == 0, carrier.output()[-3000:]
        bye_time = time.monotonic() - killed_at
        byes = carrier.received("BYE")
        call_ids = {parse_message(b.text.encode()).call_id for b in byes}
        branches = {parse_message(b.text.encode()).branch for b in byes}
        print(f"{len(byes)} BYEs (retransmissions included), {len(branches)} transactions")
        assert len(call_ids) == CALLS and len(branches) == CALLS  # one BYE per leg
    print(f"every leg of the killed replica got its BYE {bye_time:.1f} s after kill -9")

    async def finished() -> bool | None:
        found = await _statuses(call_manager, ids)
        return True if set(found.values()) == {"hangup"} else None

    await eventually(finished, 10, message="calls finished by the survivor")
    async with call_manager.sessions() as session:
        rows = (await session.execute(select(calls).where(calls.c.id.in_(ids)))).mappings().all()
        left = (await session.execute(select(dialogs).where(dialogs.c.call_id.in_(ids)))).all()
    assert {(r["hangup_by"], r["hangup_reason"]) for r in rows} == {("local", "failed")}
    assert {r["metadata"]["hangup_cause"] for r in rows} == {"replica_lost"}
    assert not left  # stored dialogs go with the calls
    # (sipp sends its 200s to the dead replica's address, where the INVITE came from, not to
    # the BYE's Via: so no final response reaches the survivor here; real UASs follow Via.)


async def test_a_reaped_replica_drops_its_dialogs_without_a_bye(
    call_manager: CallManagerApp, sipp: SippFactory, admin_customer: str, admin_caller_id: str
) -> None:
    async with sipp("uas_answer_hold.xml", calls=1, max_runtime=30) as carrier:
        body = CallCreate.model_validate(_body(admin_customer, carrier.port, 1))
        created = await call_manager.outbound_calls.create(new_uuid(), admin_customer, body, None)
        call_id = created["calls"][0]["id"]

        async def answered() -> bool | None:
            found = await _statuses(call_manager, [call_id])
            return True if found[call_id] == "progressing" else None

        await eventually(answered, 15, message="call answered")
        controller = call_manager.live.controllers[call_id]
        fenced_before = call_manager.recovery.fenced_count
        # What a survivor's reaper does to a replica it found dead: its row goes.
        async with call_manager.sessions() as session, session.begin():
            await session.execute(delete(replicas).where(replicas.c.id == call_manager.replica_id))

        async def fenced() -> bool | None:
            return True if call_manager.recovery.fenced_count > fenced_before else None

        await eventually(fenced, 10, message="fenced on the next heartbeat")
        assert call_id not in call_manager.live.controllers
        assert controller.status == "progressing"  # dropped, not hung up
        await asyncio.sleep(1.0)
        assert carrier.received("BYE") == []  # the survivor's BYE is the only one
        # the replica beats again as a fresh member
        async with call_manager.sessions() as session:
            row = (
                await session.execute(
                    select(replicas.c.id).where(replicas.c.id == call_manager.replica_id)
                )
            ).first()
        assert row is not None
    # what the survivor would have done: finish the row (no SIP here: the leg is gone)
    async with call_manager.sessions() as session, session.begin():
        await session.execute(delete(dialogs).where(dialogs.c.call_id == call_id))
        await finish_owned(session, call_manager.replica_id)
