"""The dial policy's address rules, caller-ID patterns and the per-host INVITE cap (pure)."""

from __future__ import annotations

import asyncio

import pytest
from call_manager.policy.addresses import AllowList, is_internal, parse_ip
from call_manager.policy.dial_policy import CallRemotePolicy, DialPolicy
from call_manager.policy.host_slots import HostSlots
from shared.contracts.caller_ids import caller_id_matches, caller_id_pattern_problem
from shared.sip.resolver import SipResolver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::1",
    ],
)
def test_internal_addresses(address: str) -> None:
    ip = parse_ip(address)
    assert ip is not None and is_internal(ip)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111"])
def test_public_addresses(address: str) -> None:
    ip = parse_ip(address)
    assert ip is not None and not is_internal(ip)


def test_allow_list_parsing_and_matching() -> None:
    allow = AllowList.parse(" 10.1.0.0/16, 127.0.0.2/32, pbx.example.com, .lab.example ,")
    assert allow.ip_allowed(parse_ip("10.1.2.3"))  # type: ignore[arg-type]
    assert not allow.ip_allowed(parse_ip("10.2.0.1"))  # type: ignore[arg-type]
    assert allow.admits_domain("PBX.example.com.") and not allow.admits_domain("x.pbx.example.com")
    assert allow.admits_domain("lab.example") and allow.admits_domain("a.b.lab.example")
    assert not allow.admits_domain("evil-lab.example")
    for bad in ("*.example.com", "user@host", "localhost", "http://x.example"):
        with pytest.raises(ValueError, match="allow-list entry"):
            AllowList.parse(bad)


async def test_sip_layer_policy_for_a_customer_hop() -> None:
    policy = CallRemotePolicy(AllowList.parse("127.0.0.2/32"), customer_hop=True)
    assert await policy.first_hops([("127.0.0.1", 5060), ("127.0.0.2", 5070)]) == [
        ("127.0.0.2", 5070)
    ]
    assert policy.allows_signalling("127.0.0.2", 5070)
    assert not policy.allows_signalling("127.0.0.1", 5070)
    assert policy.allows_media("127.0.0.2", 40000) and not policy.allows_media("10.0.0.1", 4000)
    assert policy.allows_signalling("8.8.8.8", 5060)


async def test_sip_layer_policy_trusts_a_provider_hop_exactly() -> None:
    policy = CallRemotePolicy(AllowList(), customer_hop=False)
    assert await policy.first_hops([("127.0.0.1", 5070)]) == [("127.0.0.1", 5070)]
    assert policy.allows_signalling("127.0.0.1", 5070)
    assert not policy.allows_signalling("127.0.0.1", 5071)  # same box, another service
    assert policy.allows_media("127.0.0.1", 30000)  # its media ports, though


@pytest.mark.parametrize(
    ("pattern", "kind", "target", "matches"),
    [
        ("+14155551234", "tel", "+14155551234", True),
        ("+14155551234", "tel", "+141555512345", False),
        ("+1415555*", "tel", "+14155550000", True),
        ("+1415555*", "tel", "+14155560000", False),
        ("+1415555*", "sip", "+14155550000@x.example", False),
        ("alice@pbx.example.com", "sip", "alice@PBX.example.com", True),
        ("alice@pbx.example.com", "sip", "bob@pbx.example.com", False),
        ("*@pbx.example.com", "sip", "bob@pbx.example.com", True),
        ("*@pbx.example.com", "sip", "bob@evil.example.com", False),
    ],
)
def test_caller_id_patterns(pattern: str, kind: str, target: str, matches: bool) -> None:
    assert caller_id_pattern_problem(pattern) is None
    assert caller_id_matches(pattern, kind, target) is matches


@pytest.mark.parametrize("pattern", ["", "4155551234", "+1", "+1415*5", "a@", "*", "a b@c.com"])
def test_bad_caller_id_patterns(pattern: str) -> None:
    assert caller_id_pattern_problem(pattern) is not None


async def test_host_slots_cap_one_host_and_forget_idle_ones() -> None:
    slots = HostSlots(per_host=2)
    entered: list[str] = []
    release = asyncio.Event()

    async def invite(host: str, name: str) -> None:
        async with slots.slot(host):
            entered.append(name)
            await release.wait()

    tasks = [asyncio.create_task(invite(f"black.hole:{5060 + i}", f"bh{i}")) for i in range(3)]
    tasks.append(asyncio.create_task(invite("other.example", "other")))
    for _ in range(20):
        await asyncio.sleep(0)
    assert sorted(entered) == ["bh0", "bh1", "other"]  # the third waits; other hosts do not
    assert slots.in_flight("BLACK.hole") == 2
    release.set()
    await asyncio.gather(*tasks)
    assert "bh2" in entered and len(slots) == 0


class _ProviderManagerDown:
    """ProviderHosts whose provider-manager cannot answer (the 503 the policy then raises)."""

    asked = 0

    async def hosts(self) -> frozenset[tuple[str, int | None]]:
        self.asked += 1
        raise RuntimeError("provider-manager unreachable")


@pytest.mark.parametrize("target", ["x@10.0.0.5", "x@224.0.0.1", "x@[::1]:5060"])
async def test_an_internal_ip_literal_is_refused_without_asking_for_the_carriers(
    target: str,
) -> None:
    providers = _ProviderManagerDown()
    policy = DialPolicy(AllowList.parse(""), providers, SipResolver())  # type: ignore[arg-type]
    reason = await policy.refusal(target)
    assert reason is not None and "IP address" in reason
    assert providers.asked == 0


async def test_an_allowed_ip_literal_still_needs_the_carriers() -> None:
    providers = _ProviderManagerDown()
    policy = DialPolicy(AllowList.parse("10.0.0.0/8"), providers, SipResolver())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await policy.refusal("x@10.0.0.5")
    assert providers.asked == 1
