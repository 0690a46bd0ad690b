"""Driving the isolated stack (gateway, provider-manager, two call-managers) over HTTP as an
operator and as a customer made with the CLI."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
from shared.sip.testing.udp_peers import SilentPeer, fast_response

from tests.support.calls import request_json as call
from tests.support.gateway_env import login
from tests.support.isolated_stack import ISOLATED_ADMIN_PASSWORD, cli_account
from tests.support.polling import eventually

CUSTOMER_PASSWORD = "customer-password-123"
CALLER_ID = "+14155551234"


@dataclass(frozen=True)
class Customer:
    customer_id: str
    headers: dict[str, str]


async def operator(http: aiohttp.ClientSession) -> dict[str, str]:
    return await login(http, "admin", ISOLATED_ADMIN_PASSWORD)


async def customer(
    http: aiohttp.ClientSession, database_url: str, *, verified: str | None = CALLER_ID
) -> Customer:
    """A CustomerAdmin made with the CLI, with `verified` as its caller ID (None: none)."""
    customer_id = str(uuid.uuid4())
    username = await cli_account(
        database_url, CUSTOMER_PASSWORD, "CustomerAdmin", customer_id=customer_id
    )
    if verified is not None:
        body = {"customer_id": customer_id, "pattern": verified}
        await call(http, "POST", "/v1.0/caller_ids", await operator(http), body)
    return Customer(customer_id, await login(http, username, CUSTOMER_PASSWORD))


def calls_body(*targets: str, source: str = CALLER_ID) -> dict[str, Any]:
    return {
        "source": {"type": "tel", "target": source},
        "destinations": [{"type": "sip" if "@" in t else "tel", "target": t} for t in targets],
    }


async def refused(
    http: aiohttp.ClientSession, who: Customer, body: dict[str, Any], status: int, reason: str
) -> dict[str, Any]:
    data = await call(http, "POST", "/v1.0/calls", who.headers, body, status)
    assert data["error"]["reason"] == reason, data
    return data


async def listed_calls(http: aiohttp.ClientSession, who: Customer) -> list[dict[str, Any]]:
    page = await call(http, "GET", "/v1.0/calls?page_size=100", who.headers)
    return list(page["result"])


async def wait_all_hung_up(http: aiohttp.ClientSession, who: Customer) -> None:
    async def done() -> bool:
        return all(c["status"] == "hangup" for c in await listed_calls(http, who))

    await eventually(done, 20, interval=0.1, message="every call hung up")


def invite_call_ids(datagrams: list[Any]) -> set[str]:
    """Distinct Call-IDs of the INVITEs a peer received (retransmissions count once)."""
    found: set[str] = set()
    for datagram in datagrams:
        text = datagram.text
        if text.startswith("INVITE "):
            match = re.search(r"^(?:call-id|i)\s*:\s*(\S+)", text, re.I | re.M)
            if match:
                found.add(match.group(1))
    return found


class RingingPeer(SilentPeer):
    """Records every datagram; answers INVITE with 180, CANCEL with 200 then 487."""

    def __init__(self) -> None:
        super().__init__()
        self._invites: dict[bytes, bytes] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        super().datagram_received(data, addr)
        to = (str(addr[0]), int(addr[1]))
        call_id = next(
            (ln for ln in data.split(b"\r\n") if ln.lower().startswith((b"call-id:", b"i:"))),
            b"",
        )
        replies: list[bytes | None] = []
        if data.startswith(b"INVITE "):
            self._invites[call_id] = data
            replies.append(fast_response(data, b"SIP/2.0 180 Ringing", b"ring1"))
        elif data.startswith(b"CANCEL "):
            replies.append(fast_response(data, b"SIP/2.0 200 OK", b"ring1"))
            invite = self._invites.pop(call_id, None)
            if invite is not None:
                replies.append(fast_response(invite, b"SIP/2.0 487 Request Terminated", b"ring1"))
        elif not data.startswith((b"ACK ", b"SIP/")):
            replies.append(fast_response(data, b"SIP/2.0 200 OK", b"ring1"))
        for reply in replies:
            if reply is not None:
                self.send(reply, to)
