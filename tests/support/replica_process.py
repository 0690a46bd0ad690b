"""A call-manager replica as a real process (`python -m call_manager serve`), for crash tests."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from call_manager.app import CallManagerApp
from call_manager.tables import replicas
from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcClient
from sqlalchemy import select

from tests.support.polling import eventually


class ReplicaProcess:
    """Its own queue prefix: RPCs sent to `queue` reach this process only."""

    def __init__(self, env: dict[str, Any], workdir: Path) -> None:
        self.replica_id = f"crash-{uuid.uuid4().hex[:8]}"
        self.prefix = f"{env['QUEUE_PREFIX']}-{self.replica_id}"
        self.queue = f"{self.prefix}.call-manager.request"
        self.env = {
            **os.environ,
            **{k: str(v) for k, v in env.items()},
            "QUEUE_PREFIX": self.prefix,
            "CALL_MANAGER_REPLICA_ID": self.replica_id,
        }
        self.log_file = workdir / f"{self.replica_id}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, survivor: CallManagerApp, timeout: float = 30.0) -> None:
        with self.log_file.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "call_manager",
                "serve",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )

        async def beating() -> bool | None:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"replica exited: {self.log_file.read_text()[-3000:]}")
            async with survivor.sessions() as session:
                row = (
                    await session.execute(
                        select(replicas.c.id).where(replicas.c.id == self.replica_id)
                    )
                ).first()
            return True if row is not None else None

        await eventually(beating, timeout, message="replica process heartbeat")

    async def wait_serving(self, rpc: RpcClient, timeout: float = 30.0) -> None:
        """Until its service queue has a consumer (it starts after the heartbeat)."""

        async def answers() -> bool | None:
            try:
                await rpc.request(self.queue, "GET", f"/v1/calls/{uuid.uuid4()}", timeout=2)
            except AppError as err:
                if err.status is ErrorStatus.NOT_FOUND:
                    return True
                return None
            return True

        await eventually(answers, timeout, interval=0.2, message="replica process serving")

    def kill(self) -> None:
        """kill -9: no shutdown code runs, no BYE, no row written."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def stop(self) -> None:
        if self.process is None:
            return
        self.kill()
        await self.process.wait()
