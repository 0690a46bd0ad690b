"""RFC 3263 resolution against a loopback DNS server written for the tests."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import pytest
from shared.sip.errors import ResolutionError
from shared.sip.resolver import SipResolver, SrvRecord, Target, order_srv
from shared.sip.testing.dns_server import LoopbackDnsServer


async def test_srv_targets_in_priority_order(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add(
        "_sip._udp.carrier.test",
        "SRV",
        "20 0 5080 backup.carrier.test.",
        "10 0 5070 primary.carrier.test.",
        "30 0 5090 last.carrier.test.",
    )
    dns_server.add("primary.carrier.test", "A", "127.0.0.11")
    dns_server.add("backup.carrier.test", "A", "127.0.0.12", "127.0.0.13")
    dns_server.add("last.carrier.test", "A", "127.0.0.14")
    targets = await dns_resolver.resolve("carrier.test")
    assert targets[0] == Target("127.0.0.11", 5070)
    # addresses of one name come in the order DNS gives them (an RRset has none)
    assert set(targets[1:3]) == {Target("127.0.0.12", 5080), Target("127.0.0.13", 5080)}
    assert targets[3] == Target("127.0.0.14", 5090)
    assert len(targets) == 4
    assert dns_server.count("carrier.test", "A") == 0  # SRV existed: no fallback query


async def test_srv_target_that_does_not_resolve_is_skipped(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add(
        "_sip._udp.half.test", "SRV", "10 0 5060 gone.half.test.", "20 0 5062 ok.half.test."
    )
    dns_server.add("ok.half.test", "A", "127.0.0.21")
    assert await dns_resolver.resolve("half.test") == [Target("127.0.0.21", 5062)]


async def test_no_srv_falls_back_to_a_on_5060(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add("plain.test", "A", "127.0.0.31")
    assert await dns_resolver.resolve("plain.test") == [Target("127.0.0.31", 5060)]
    assert dns_server.count("_sip._udp.plain.test", "SRV") == 1


async def test_explicit_port_skips_srv(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add("_sip._udp.ported.test", "SRV", "10 0 5070 elsewhere.test.")
    dns_server.add("ported.test", "A", "127.0.0.41")
    assert await dns_resolver.resolve("ported.test:5099") == [Target("127.0.0.41", 5099)]
    assert dns_server.count("_sip._udp.ported.test") == 0


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("192.0.2.7", Target("192.0.2.7", 5060)),
        ("192.0.2.7:5080", Target("192.0.2.7", 5080)),
        ("[2001:db8::7]", Target("2001:db8::7", 5060)),
        ("[2001:db8::7]:5090", Target("2001:db8::7", 5090)),
    ],
)
async def test_ip_literals_need_no_lookup(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver, target: str, expected: Target
) -> None:
    assert await dns_resolver.resolve(target) == [expected]
    assert dns_server.queries == []


async def test_ttl_cache_hit_sends_no_second_query(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add("_sip._udp.cached.test", "SRV", "10 0 5070 host.cached.test.", ttl=300)
    dns_server.add("host.cached.test", "A", "127.0.0.51", ttl=300)
    first = await dns_resolver.resolve("cached.test")
    queries = len(dns_server.queries)
    assert queries == 3  # NAPTR (none), SRV _sip._udp, A
    # concurrent callers share the cached answer too
    again = await asyncio.gather(*(dns_resolver.resolve("cached.test") for _ in range(50)))
    assert all(result == first for result in again)
    assert len(dns_server.queries) == queries


async def test_concurrent_misses_share_one_query(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add("burst.test", "A", "127.0.0.52")
    results = await asyncio.gather(*(dns_resolver.resolve("burst.test:5060") for _ in range(100)))
    assert {tuple(r) for r in results} == {(Target("127.0.0.52", 5060),)}
    assert dns_server.count("burst.test", "A") == 1


async def test_ttl_expiry_queries_again(dns_server: LoopbackDnsServer) -> None:
    resolver = SipResolver(
        nameservers=[dns_server.nameserver], hosts_file=None, min_ttl=0.0, lifetime=1.0
    )
    dns_server.add("short.test", "A", "127.0.0.53", ttl=0)
    await resolver.resolve("short.test:5060")
    await resolver.resolve("short.test:5060")
    assert dns_server.count("short.test", "A") == 2


async def test_nxdomain_fails_fast_and_is_cached(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    started = time.monotonic()
    with pytest.raises(ResolutionError) as err:
        await dns_resolver.resolve("no-such-host.invalid")
    assert time.monotonic() - started < 0.5
    assert "NXDOMAIN" in err.value.reason
    queries = len(dns_server.queries)
    with pytest.raises(ResolutionError):
        await dns_resolver.resolve("no-such-host.invalid")
    assert len(dns_server.queries) == queries  # negative answer cached


async def test_srv_dot_target_means_no_service(
    dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    dns_server.add("_sip._udp.nosip.test", "SRV", "0 0 0 .")
    with pytest.raises(ResolutionError, match="not offered"):
        await dns_resolver.resolve("nosip.test")


async def test_silent_nameserver_gives_up_within_lifetime() -> None:
    # a socket that never answers stands in for a dead DNS server
    loop = asyncio.get_running_loop()
    silent, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, ("127.0.0.1", 0))
    port = silent.get_extra_info("sockname")[1]
    try:
        resolver = SipResolver(nameservers=[f"127.0.0.1:{port}"], hosts_file=None, lifetime=0.3)
        started = time.monotonic()
        with pytest.raises(ResolutionError, match=r"timeout|lifetime"):
            await resolver.resolve("slow.test")
        assert time.monotonic() - started < 1.0
    finally:
        silent.close()


async def test_hosts_file_is_honoured(dns_server: LoopbackDnsServer, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.61 trunk.local trunk  # comment\n::1 trunk.local\n")
    resolver = SipResolver(nameservers=[dns_server.nameserver], hosts_file=hosts, lifetime=1.0)
    assert await resolver.resolve("trunk.local:5070") == [Target("127.0.0.61", 5070)]
    assert await resolver.resolve("TRUNK:5070") == [Target("127.0.0.61", 5070)]
    assert dns_server.queries == []


async def test_system_hosts_localhost() -> None:
    resolver = SipResolver(lifetime=1.0)
    assert await resolver.resolve("localhost:5099") == [Target("127.0.0.1", 5099)]


def test_weighted_order_within_priority_follows_weights() -> None:
    records = [
        SrvRecord(10, 90, 5060, "heavy"),
        SrvRecord(10, 10, 5060, "light"),
        SrvRecord(5, 0, 5060, "first"),
    ]
    rng = random.Random(7)
    firsts = Counter(order_srv(records, rng)[1].target for _ in range(2000))
    assert all(order_srv(records, rng)[0].target == "first" for _ in range(100))
    assert 0.84 < firsts["heavy"] / 2000 < 0.96
