"""SIP URIs, name-addr values, Via values, host:port splitting."""

from __future__ import annotations

import pytest
from shared.sip.errors import SipParseError
from shared.sip.uri import (
    header_tag,
    parse_name_addr,
    parse_uri,
    split_host_port,
)
from shared.sip.via import parse_via, top_branch


def test_full_sip_uri() -> None:
    uri = parse_uri("sip:+4930123;npdi@carrier.example.com:5080;transport=UDP;lr?X-Foo=bar")
    assert uri.user == "+4930123;npdi"
    assert (uri.host, uri.port) == ("carrier.example.com", 5080)
    assert uri.param("TRANSPORT") == "UDP"  # names case-insensitive, values as sent
    assert uri.loose_route
    assert uri.headers == "X-Foo=bar"
    assert str(uri) == "sip:+4930123;npdi@carrier.example.com:5080;transport=UDP;lr?X-Foo=bar"


def test_ipv6_uri_and_password() -> None:
    uri = parse_uri("sips:alice:secret@[2001:db8::1]:5061")
    assert (uri.scheme, uri.user, uri.password) == ("sips", "alice", "secret")
    assert (uri.host, uri.port) == ("2001:db8::1", 5061)
    assert str(uri) == "sips:alice:secret@[2001:db8::1]:5061"


@pytest.mark.parametrize("text", ["tel:+4930123", "http://x", "sip:", "sip:host:99999"])
def test_bad_uris(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


def test_name_addr_forms() -> None:
    full = parse_name_addr('"Doe, \\"J\\"" <sip:j@example.com;transport=udp>;tag=x1;foo')
    assert full.display_name == 'Doe, "J"'
    assert full.uri.host == "example.com" and full.uri.param("transport") == "udp"
    assert full.tag == "x1" and "foo" in full.params
    token = parse_name_addr("Bob <sip:bob@b.example.com>")
    assert token.display_name == "Bob" and token.tag is None
    bare = parse_name_addr("sip:carol@c.example.com;tag=88")
    assert bare.uri.params == {} and bare.tag == "88"  # addr-spec: params are header params
    assert str(full) == '"Doe, \\"J\\"" <sip:j@example.com;transport=udp>;tag=x1;foo'


def test_header_tag_works_for_non_sip_uris() -> None:
    assert header_tag("<tel:+4930123>;tag=abc") == "abc"
    assert header_tag('"A;b" <sip:a@b;tag=no>') is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", ("example.com", None)),
        ("example.com:5080", ("example.com", 5080)),
        ("192.0.2.1", ("192.0.2.1", None)),
        ("192.0.2.1:5062", ("192.0.2.1", 5062)),
        ("[2001:db8::1]", ("2001:db8::1", None)),
        ("[2001:db8::1]:5070", ("2001:db8::1", 5070)),
        ("2001:db8::1", ("2001:db8::1", None)),
    ],
)
def test_split_host_port(text: str, expected: tuple[str, int | None]) -> None:
    assert split_host_port(text) == expected


@pytest.mark.parametrize("text", ["", ":5060", "host:abc", "host:0", "[::1", "[::1]x"])
def test_split_host_port_rejects(text: str) -> None:
    with pytest.raises(SipParseError):
        split_host_port(text)


def test_via_params() -> None:
    via = parse_via("SIP/2.0/udp 127.0.0.1:5060;branch=z9hG4bK77;rport;received=10.0.0.9")
    assert via.transport == "UDP"
    assert via.branch == "z9hG4bK77"
    assert via.rport is None and "rport" in via.params
    assert str(via) == "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK77;rport;received=10.0.0.9"


@pytest.mark.parametrize(
    "value",
    [
        "SIP/2.0/UDP h;branch=z9hG4bKq",
        "SIP/2.0/UDP h;rport;BRANCH=z9hG4bKq;received=1.2.3.4",
        "SIP/2.0/UDP h ; branch = z9hG4bKq",
        "SIP/2.0/UDP h;branch=z9hG4bKq, SIP/2.0/UDP other;branch=z9hG4bKz",
    ],
)
def test_top_branch_fast_path(value: str) -> None:
    assert top_branch(value) == "z9hG4bKq"
