"""The isolated stack of the abuse tests (its own database, gateway, provider-manager and two
call-managers): its limits, its call-manager settings, and accounts made with the CLI as an
operator would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from typing import Any

ISOLATED_ADMIN_PASSWORD = "isolated-admin-password"

# The allowed loopback address: sipp PBXs customers may dial directly listen there, while
# 127.0.0.1 (and everything else internal) stays refused.
ALLOWED_HOST = "127.0.0.2"
MAX_CALLS = 3
CALLS_PER_SECOND = 1  # 10 calls per 10 s window

CALL_MANAGER_ENV: dict[str, Any] = {
    "CALL_MANAGER_OPS_PORT": 0,
    "CALL_MANAGER_SIP_HOST": "127.0.0.1",
    "CALL_MANAGER_SIP_PORT": 0,
    "CALL_RING_TIMEOUT": 15,
    "CALL_MAX_DURATION": 30,
    "CALL_MANAGER_SIP_T1": 0.05,
    "CALL_MANAGER_HEARTBEAT_INTERVAL": 0.5,
    "CALL_MANAGER_REPLICA_DEAD_AFTER": 5.0,
    "CALL_MANAGER_REAPER_INTERVAL": 0.5,
    "CALL_MANAGER_DNS_SERVERS": "127.0.0.1:9",
    "CALL_MANAGER_DIAL_ALLOW": f"{ALLOWED_HOST}/32",
    "CALL_MANAGER_CUSTOMER_MAX_CALLS": MAX_CALLS,
    "CALL_MANAGER_CUSTOMER_CALLS_PER_SECOND": CALLS_PER_SECOND,
}


def gateway_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m api_gateway ...` as an operator runs it, against `database_url`."""
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "api_gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def cli_account(database_url: str, password: str, permission: str, **extra: str) -> str:
    """A new account made with the CLI; its username."""
    username = f"abuse-{uuid.uuid4().hex[:10]}"
    args = ["account", "--username", username, "--password", password]
    args += ["--permission", permission]
    for name, value in extra.items():
        args += [f"--{name.replace('_', '-')}", value]
    done = await asyncio.to_thread(gateway_cli, database_url, *args)
    assert done.returncode == 0, done.stderr
    return username
