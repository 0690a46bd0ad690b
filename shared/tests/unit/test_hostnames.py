"""The provider hostname rule: a DNS name or an IP literal, optional :port, nothing else."""

from __future__ import annotations

import pytest
from shared.contracts.hostnames import MAX_LENGTH, hostname_problem

VALID = [
    "sip.telnyx.com",
    "SIP.Telnyx.COM",
    "localhost",
    "a",
    "sip-1.example.co.uk",
    "sip.telnyx.com:5060",
    "sip.telnyx.com:1",
    "sip.telnyx.com:65535",
    "1.2.3.4",
    "1.2.3.4:5061",
    "::1",
    "2001:db8::1",
    "[::1]",
    "[2001:db8::1]",
    "[2001:db8::1]:5060",
    "a" * 63 + ".com",
    ".".join(["a" * 60] * 4),
]


@pytest.mark.parametrize("value", VALID)
def test_valid_hostnames(value: str) -> None:
    assert hostname_problem(value) is None


INVALID = [
    ("", "empty"),
    ("a" * (MAX_LENGTH + 1), "253"),
    ("::ffff:1.2.3.4", "IPv6"),  # embedded IPv4: not a carrier's address
    ("sip.example.com ", "whitespace"),
    (" sip.example.com", "whitespace"),
    ("sip .example.com", "whitespace"),
    ("sip.example.com\t", "whitespace"),
    ("sip.example.com\n", "whitespace"),
    ("sip.exam\x00ple.com", "control"),
    ("sip.exam\x7fple.com", "control"),
    ("sip.example.com\u00a0", "whitespace"),
    ("sip://sip.example.com", "scheme"),
    ("http://sip.example.com", "scheme"),
    ("sip:sip.example.com", "scheme"),
    ("SIPS:sip.example.com", "scheme"),
    ("tel:+15551234567", "scheme"),
    ("sip.example.com/path", "path"),
    ("sip.example.com?x=1", "path"),
    ("sip.example.com#frag", "path"),
    ("user@sip.example.com", "user part"),
    ("user:pw@sip.example.com", "user part"),
    ("sip.example.com:0", "port"),
    ("sip.example.com:65536", "port"),
    ("sip.example.com:99999", "port"),
    ("sip.example.com:", "port"),
    ("sip.example.com:50a", "port"),
    ("sip.example.com:+80", "port"),
    ("sip.example.com:-1", "port"),
    ("sip.example.com:\u0663", "port"),  # a non-ASCII digit
    ("1.2.3.4:0", "port"),
    ("[::1]:0", "port"),
    ("[::1]:70000", "port"),
    ("[::1]:", "port"),
    ("-sip.example.com", "DNS"),
    ("sip-.example.com", "DNS"),
    ("sip..example.com", "DNS"),
    ("sip.example.com.", "DNS"),
    ("sip_1.example.com", "DNS"),
    ("s\u00efp.example.com", "DNS"),
    ("a" * 64 + ".com", "DNS"),
    (":5060", "DNS"),
    ("example.123", "start with a letter"),
    ("1.2.3", "IPv4"),
    ("1.2.3.4.5", "IPv4"),
    ("1.2.3.256", "IPv4"),
    ("12345678", "IPv4"),
    ("[1.2.3.4]", "IPv6"),
    ("[x]", "IPv6"),
    ("[::1", "IPv6"),
    ("[::1]x", "IPv6"),
    ("::g", "IPv6"),
    ("2001:db8:::1", "IPv6"),
    ("fe80::1%eth0", "zone"),
    ("[fe80::1%25eth0]:5060", "zone"),
]


@pytest.mark.parametrize(("value", "why"), INVALID)
def test_invalid_hostnames(value: str, why: str) -> None:
    problem = hostname_problem(value)
    assert problem is not None, value
    assert why.lower() in problem.lower(), problem


def test_longest_dns_name() -> None:
    # 253 characters is the longest DNS name, and the longest value the rule takes at all.
    longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert len(longest) == MAX_LENGTH == 253
    assert hostname_problem(longest) is None
    assert "253" in (hostname_problem(longest + "e") or "")
