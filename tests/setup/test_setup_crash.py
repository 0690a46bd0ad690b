"""provider-manager killed mid-saga (SIGKILL to the child we started): the journal keeps what
may exist at the carrier, the next start logs it, RPC lists it, and the next setup that
presents the key deletes the leftovers (even one the journal never heard of) and records it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from shared.rpc import RpcClient

from tests.support.carrier_setup import (
    EGRESS,
    SETUP_URI,
    SetupDriver,
    assert_nothing_left,
    carrier_resources,
    setup_body,
)
from tests.support.polling import eventually
from tests.support.telnyx_fake import FakeTelnyx

REPO = Path(__file__).resolve().parents[2]


class ProviderManagerProcess:
    """`python -m provider_manager serve` as a child; its stdout (JSON logs) is kept."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "provider_manager",
            "serve",
            cwd=REPO,
            env=self._env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        await eventually(lambda: self._logged("service_started"), 20, message="pm started")

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.lines.append(line.decode(errors="replace"))

    async def _logged(self, event: str) -> list[dict[str, Any]]:
        return self.events(event)

    def events(self, event: str) -> list[dict[str, Any]]:
        out = []
        for line in self.lines:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("event") == event:
                    out.append(record)
        return out

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL to this child's PID: no cleanup code runs
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        if self._reader is not None:
            await self._reader

    @property
    def output(self) -> str:
        return "".join(self.lines)


async def test_crash_mid_saga_is_logged_listed_and_cleaned_by_the_next_setup(
    platform_env: dict[str, Any],
    setup_env: dict[str, Any],
    rpc: RpcClient,
    fake: FakeTelnyx,
    driver: SetupDriver,
) -> None:
    key = f"KEY_LEAKCHECK_{uuid.uuid4().hex}"
    fake.set_key(key)
    prefix = f"{platform_env['QUEUE_PREFIX']}-crash-{uuid.uuid4().hex[:6]}"
    queue = f"{prefix}.provider-manager.request"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELNYX_", "PROVIDER_"))},
        **{k: str(v) for k, v in platform_env.items()},
        # The database the setup platform's provider-manager (the driver) reads.
        "DATABASE_URL": setup_env["DATABASE_URL"],
        "QUEUE_PREFIX": prefix,
        "PROVIDER_MANAGER_OPS_PORT": "0",
        "TELNYX_API_BASE_URL": fake.base_url,
        "TELNYX_SIP_EGRESS_ADDRESSES": ",".join(EGRESS),
        "TELNYX_REQUEST_TIMEOUT": "10",
        "LOG_LEVEL": "DEBUG",
    }
    # The second IP is created at the carrier, but its answer hangs: the process dies
    # before the journal hears of it.
    hang = fake.add_fault(
        method="POST", path="/v2/ips", action="commit_then_delay", delay=30, skip=1, times=1
    )
    first = ProviderManagerProcess(env)
    second = ProviderManagerProcess(env)
    await first.start()
    try:
        call = asyncio.create_task(rpc.call(queue, "POST", SETUP_URI, setup_body(key=key)))

        async def second_ip_requested() -> bool:
            return hang.fired == 1

        await eventually(second_ip_requested, 10, message="second IP requested")
        await first.kill()
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call

        crashed = [s for s in await driver.unfinished() if s["name"] == "My Telnyx Trunk"]
        assert len(crashed) == 1
        crashed_id = crashed[0]["id"]
        assert crashed[0]["state"] == "connection_created"
        assert len(crashed[0]["resources"]["telnyx_ip_ids"]) == 1
        left = carrier_resources(fake, crashed_id)
        assert (len(left["profiles"]), len(left["connections"]), len(left["ips"])) == (1, 1, 2)

        # A new process names the unfinished setup at start, and RPC lists it as not live.
        await second.start()
        (logged,) = [e for e in second.events("provider_setup_unfinished")]
        assert logged["setup_id"] == crashed_id and logged["in_progress"] is False
        listed = await rpc.call(queue, "GET", "/v1/providers/setups?state=unfinished")
        assert [s["id"] for s in listed.data["result"]] == [crashed_id]

        # The next setup with the key deletes the leftovers, including the unrecorded IP.
        reply = await rpc.call(queue, "POST", SETUP_URI, setup_body(key=key), timeout=30)
        assert reply.status_code == 200, reply.data
        assert_nothing_left(fake, crashed_id, only_setup=True)
        record = await driver.journal(crashed_id)
        assert record["state"] == "rolled_back"
        deleted = record["cleanup"][-1]["deleted"]
        assert sorted(d["id"] for d in deleted if d["kind"] == "ip") == sorted(
            i["id"] for i in left["ips"]
        )
        assert [d["kind"] for d in deleted] == [
            "ip",
            "ip",
            "ip_connection",
            "outbound_voice_profile",
        ]
        assert second.events("provider_setup_orphan_swept")[0]["orphan_setup_id"] == crashed_id
        # Only the new setup's trunk remains at the carrier.
        assert len(fake.ovps()) == len(fake.connections()) == 1 and len(fake.ips()) == 2
        assert fake.ovps()[0]["id"] == reply.data["metadata"]["telnyx_profile_id"]
    finally:
        await first.stop()
        await second.stop()
    # Neither process ever logged the key (DEBUG level, a crash and a sweep included).
    assert first.output and second.output
    assert key not in first.output and key not in second.output
    assert key not in await driver.all_rows_as_text()
