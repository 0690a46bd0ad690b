"""Maps keyed by what peers and requests send have a size limit (issue 11)."""

from __future__ import annotations

from shared.sip.call import MAX_ANSWERED_REQUESTS, OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.message import SipRequest
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver, _TtlCache
from shared.sip.target import Target
from shared.sip.transport import UdpTransport


async def test_the_dns_cache_keeps_at_most_its_bound() -> None:
    cache: _TtlCache[list[str]] = _TtlCache(max_entries=100)

    async def fetch() -> tuple[list[str], float]:
        return ["192.0.2.1"], 3600.0

    for i in range(1000):
        await cache.get(f"host{i}.example", fetch, lambda _: 1.0)
    assert len(cache) == 100
    # The newest names are the ones kept.
    assert cache.misses == 1000
    await cache.get("host999.example", fetch, lambda _: 1.0)
    assert cache.hits == 1


def _options(branch: str, call_id: str) -> SipRequest:
    text = (
        "OPTIONS sip:us@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{branch}\r\n"
        f"From: <sip:them@127.0.0.1>;tag=t\r\nTo: <sip:us@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    message = parse_message(text.encode())
    assert isinstance(message, SipRequest)
    return message


async def test_answered_requests_per_call_are_bounded() -> None:
    transport = await UdpTransport.create("127.0.0.1", 0)
    try:
        call = OutboundCall(transport, SipResolver(), CallSpec(request_uri="sip:1@127.0.0.1:9"))
        for i in range(MAX_ANSWERED_REQUESTS * 4):
            call.on_request(_options(f"b{i}", call.call_id), Target("127.0.0.1", 9))
        assert len(call._answered_requests) == MAX_ANSWERED_REQUESTS
    finally:
        transport.close()
        await transport.wait_closed()
