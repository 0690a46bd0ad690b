"""schemathesis against the running platform: every check but `use_after_free` (the seeds'
soft delete keeps GET working on a deleted provider) must find nothing. Bounded: a few
examples per operation, so the run takes about a minute."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
from api_gateway.app import GatewayApp

from tests.support.gateway_env import ADMIN_PASSWORD, ADMIN_USERNAME

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).parent / "schemathesis.toml"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))


async def test_schemathesis_finds_nothing(contract_gateway: GatewayApp, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{contract_gateway.port}"
    async with aiohttp.ClientSession(base_url=base) as http:
        login = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        async with http.post("/auth/login", json=login) as resp:
            token = (await resp.json())["token"]
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "use_after_free",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        os.environ.get("SCHEMATHESIS_SEED", "1"),
        # One worker: hypothesis' source inspection is not thread-safe on CPython 3.11.
        "--workers",
        "1",
        "--header",
        f"Authorization:Bearer {token}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-30000:]
