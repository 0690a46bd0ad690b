"""A tiny authoritative DNS responder on loopback UDP, for resolver tests.

Unknown names get NXDOMAIN; known names without the asked type get an empty NOERROR answer.
Every query is logged so tests can assert that a cached answer caused no second query.
"""

from __future__ import annotations

import asyncio
from typing import cast

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from shared.sip.testing.lifecycle import ClosedAfterBlock


class LoopbackDnsServer(ClosedAfterBlock, asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self._records: dict[tuple[str, int], tuple[int, list[str]]] = {}
        self.queries: list[tuple[str, str]] = []  # (name without final dot, type) in order
        self._transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.host = "127.0.0.1"

    @classmethod
    async def start(cls, host: str = "127.0.0.1") -> LoopbackDnsServer:
        loop = asyncio.get_running_loop()
        _, server = await loop.create_datagram_endpoint(cls, local_addr=(host, 0))
        return server

    @property
    def nameserver(self) -> str:
        """The spec to give SipResolver(nameservers=[...])."""
        return f"{self.host}:{self.port}"

    def add(self, name: str, rdtype: str, *rdata: str, ttl: int = 60) -> None:
        """E.g. add("_sip._udp.example.test", "SRV", "10 60 5060 a.example.test.", ttl=30)."""
        key = (_norm(name), dns.rdatatype.from_text(rdtype))
        self._records[key] = (ttl, list(rdata))

    def count(self, name: str, rdtype: str | None = None) -> int:
        wanted = _norm(name)
        return sum(1 for n, t in self.queries if n == wanted and (rdtype is None or t == rdtype))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # CPython's selector datagram transport does not subclass DatagramTransport
        self._transport = cast(asyncio.DatagramTransport, transport)
        sockname = transport.get_extra_info("sockname")
        self.host, self.port = sockname[0], sockname[1]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return
        if not query.question or self._transport is None:
            return
        question = query.question[0]
        name = _norm(question.name.to_text())
        self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
        response = dns.message.make_response(query)
        record = self._records.get((name, question.rdtype))
        if record is not None:
            ttl, rdata = record
            response.answer.append(
                dns.rrset.from_text(question.name, ttl, dns.rdataclass.IN, question.rdtype, *rdata)
            )
        elif not any(n == name for n, _ in self._records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        self._transport.sendto(response.to_wire(), addr)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _norm(name: str) -> str:
    return name.lower().rstrip(".")
