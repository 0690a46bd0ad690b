"""Placing routed calls over HTTP, registering sipp carriers as providers and routes, and
finding out which carrier a call landed on (bounded waits only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from shared.sip.testing.sipp import SippProcess, TracedMessage

from tests.support.calls import calls_body, post_calls
from tests.support.polling import eventually
from tests.support.routes import RouteDriver

PASSWORD = "a-long-failover-password"
NIL_UUID = "00000000-0000-0000-0000-000000000000"
NYC = "+12125551234"
LA = "+13105551234"
LONDON = "+442071234567"


@dataclass(frozen=True)
class Caller:
    customer_id: str
    headers: dict[str, str]
    # A ProjectSuperAdmin's: only they see which provider and route a call took.
    operator: dict[str, str] = field(default_factory=dict)


# `await accounts(Permission.CUSTOMER_ADMIN)` -> a Caller (the failover `accounts` fixture).
AccountFactory = Callable[..., Any]
# `carrier("a", "uas_reject.xml", **blanks)` -> a sipp carrier (the failover `carrier` fixture).
CarrierFactory = Callable[..., SippProcess]


async def place(http: aiohttp.ClientSession, caller: Caller, number: str) -> str:
    """One call to `number` as `caller`; its id."""
    created = await post_calls(http, caller.headers, calls_body(number))
    assert created["groupcalls"] == [] and len(created["calls"]) == 1
    return str(created["calls"][0]["id"])


async def sip_provider(routing: RouteDriver, carrier: SippProcess, name: str = "carrier") -> str:
    """A provider whose hostname is the sipp carrier's address."""
    created = await routing.call(
        "POST", "/v1/providers", {"type": "sip", "hostname": carrier.target, "name": name}
    )
    return str(created["id"])


def invites(carrier: SippProcess) -> list[TracedMessage]:
    return carrier.received("INVITE")


async def invited(carrier: SippProcess, number: str, count: int = 1) -> list[TracedMessage]:
    """Wait until `carrier` has received `count` INVITEs for `number`."""

    async def probe() -> list[TracedMessage] | None:
        found = [m for m in invites(carrier) if f"sip:{number}@" in m.start_line]
        return found if len(found) >= count else None

    found: list[TracedMessage] = await eventually(probe, 10, message=f"INVITE {number}")
    return found


def call_id_header(message: TracedMessage) -> str:
    call_id = message.header("Call-ID")
    if call_id is None:
        raise AssertionError(f"no Call-ID in {message.start_line}")
    return call_id
