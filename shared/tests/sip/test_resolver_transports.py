"""RFC 3263 transport selection against the loopback DNS server: NAPTR, then SRV for the
chosen transport, then A; explicit transports, ports and IP literals skip the lookups."""

from __future__ import annotations

import pytest
from shared.sip.errors import ResolutionError
from shared.sip.resolver import NaptrRecord, SipResolver, order_naptr
from shared.sip.target import Target
from shared.sip.testing.dns_server import LoopbackDnsServer
from shared.sip.uri import parse_uri


def naptr(order: int, pref: int, service: str, replacement: str) -> str:
    return f'{order} {pref} "s" "{service}" "" {replacement}.'


async def test_naptr_order_picks_the_transport_and_its_srv(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add(
        "carrier.test",
        "NAPTR",
        naptr(20, 10, "SIP+D2U", "_sip._udp.carrier.test"),
        naptr(10, 20, "SIP+D2T", "_sip._tcp.carrier.test"),
        naptr(10, 10, "SIPS+D2T", "_sips._tcp.carrier.test"),
    )
    dns_server.add("_sips._tcp.carrier.test", "SRV", "10 0 5061 tls.carrier.test.")
    dns_server.add("_sip._tcp.carrier.test", "SRV", "10 0 5060 tcp.carrier.test.")
    dns_server.add("_sip._udp.carrier.test", "SRV", "10 0 5060 udp.carrier.test.")
    dns_server.add("tls.carrier.test", "A", "127.0.0.71")
    dns_server.add("tcp.carrier.test", "A", "127.0.0.72")
    dns_server.add("udp.carrier.test", "A", "127.0.0.73")
    targets = await dns_resolver.resolve("carrier.test")
    # TLS first (order 10, preference 10); its certificate must name carrier.test
    assert targets == [Target("127.0.0.71", 5061, "tls", "carrier.test")]
    assert dns_server.queries[0] == ("carrier.test", "NAPTR")
    # a sips: URI keeps TLS-only records
    sips = await dns_resolver.resolve_uri(parse_uri("sips:carrier.test"))
    assert sips == [Target("127.0.0.71", 5061, "tls", "carrier.test")]


async def test_naptr_falls_to_the_next_record_when_its_srv_is_missing(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add(
        "next.test",
        "NAPTR",
        naptr(10, 10, "SIP+D2T", "_sip._tcp.next.test"),  # no such SRV
        naptr(20, 10, "SIP+D2U", "_sip._udp.next.test"),
        naptr(5, 10, "SIP+D2X", "_sip._sctp.next.test"),  # not ours: skipped
    )
    dns_server.add("_sip._udp.next.test", "SRV", "10 0 5070 a.next.test.")
    dns_server.add("a.next.test", "A", "127.0.0.74")
    assert await dns_resolver.resolve("next.test") == [Target("127.0.0.74", 5070, "udp")]
    assert dns_server.count("_sip._sctp.next.test") == 0


async def test_without_naptr_the_first_srv_transport_offered_wins(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add("srvonly.test", "A", "127.0.0.9")  # the name exists, without NAPTR
    dns_server.add("_sip._tcp.srvonly.test", "SRV", "10 0 5080 b.srvonly.test.")
    dns_server.add("b.srvonly.test", "A", "127.0.0.75")
    assert await dns_resolver.resolve("srvonly.test") == [Target("127.0.0.75", 5080, "tcp")]
    asked = [name for name, _ in dns_server.queries]
    assert asked.index("_sip._udp.srvonly.test") < asked.index("_sip._tcp.srvonly.test")


async def test_forced_transport_skips_naptr_and_uses_its_srv(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add("forced.test", "NAPTR", naptr(10, 10, "SIP+D2U", "_sip._udp.forced.test"))
    dns_server.add("_sip._udp.forced.test", "SRV", "10 0 5060 u.forced.test.")
    dns_server.add("_sip._tcp.forced.test", "SRV", "10 0 5090 t.forced.test.")
    dns_server.add("t.forced.test", "A", "127.0.0.76")
    targets = await dns_resolver.resolve("forced.test", transport="tcp")
    assert targets == [Target("127.0.0.76", 5090, "tcp")]
    assert dns_server.count("forced.test", "NAPTR") == 0
    # ;transport= in the URI does the same
    uri = await dns_resolver.resolve_uri(parse_uri("sip:forced.test;transport=TCP"))
    assert uri == targets


async def test_no_srv_means_a_records_on_the_transport_default_port(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add("plainname.test", "A", "127.0.0.77")
    assert await dns_resolver.resolve("plainname.test", transport="tls") == [
        Target("127.0.0.77", 5061, "tls", "plainname.test")
    ]
    assert await dns_resolver.resolve("plainname.test") == [Target("127.0.0.77", 5060, "udp")]


@pytest.mark.parametrize(
    ("text", "transport", "secure", "expected"),
    [
        ("192.0.2.7", None, False, Target("192.0.2.7", 5060, "udp")),
        ("192.0.2.7", "tcp", False, Target("192.0.2.7", 5060, "tcp")),
        ("192.0.2.7", None, True, Target("192.0.2.7", 5061, "tls", "192.0.2.7")),
        ("192.0.2.7:5099", "tls", False, Target("192.0.2.7", 5099, "tls", "192.0.2.7")),
    ],
)
async def test_ip_literals_need_no_lookup(
    dns_server: LoopbackDnsServer,
    dns_resolver: SipResolver,
    text: str,
    transport: str | None,
    secure: bool,
    expected: Target,
) -> None:
    assert await dns_resolver.resolve(text, transport=transport, secure=secure) == [expected]
    assert dns_server.queries == []


async def test_sips_refuses_a_plain_transport(dns_resolver: SipResolver) -> None:
    with pytest.raises(ResolutionError, match="sips"):
        await dns_resolver.resolve_uri(parse_uri("sips:192.0.2.7;transport=udp"))
    with pytest.raises(ResolutionError, match="unknown transport"):
        await dns_resolver.resolve("192.0.2.7", transport="sctp")


def test_order_naptr_drops_what_cannot_be_used() -> None:
    records = [
        NaptrRecord(10, 10, "S", "SIP+D2T", "_sip._tcp.x"),
        NaptrRecord(10, 5, "A", "SIP+D2U", "x"),  # not an SRV pointer
        NaptrRecord(1, 1, "s", "SIPS+D2T", "_sips._tcp.x"),
    ]
    plain = order_naptr(records, secure=False, transports=("udp", "tcp", "tls"))
    assert [t for t, _ in plain] == ["tls", "tcp"]
    assert [t for t, _ in order_naptr(records, secure=True, transports=("tcp", "tls"))] == ["tls"]
    assert order_naptr(records, secure=False, transports=("udp",)) == []
