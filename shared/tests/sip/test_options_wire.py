"""The probe path's OPTIONS, written straight to bytes, is the request build_options_request
makes, byte for byte; and it still reads back as that request."""

from __future__ import annotations

import pytest
from shared.sip.message import SipRequest
from shared.sip.options import build_options_request, prepared_options
from shared.sip.parser import parse_message
from shared.sip.target import Target
from shared.sip.transport import UdpTransport

IDS = {"call_id": "c0ffee", "branch": "z9hG4bK0123abcd", "tag": "7a9"}


@pytest.mark.parametrize(
    ("host", "port", "destination", "request_user"),
    [
        ("carrier.example", None, Target("127.0.0.1", 5060), None),
        ("carrier.example", 5070, Target("127.0.0.1", 5070), "ping"),
        ("sip.carrier.example", None, Target("127.0.0.1", 5060, "tcp"), None),
        ("sip.carrier.example", 5061, Target("127.0.0.1", 5061, "tls", "sip.carrier.example"), ""),
        ("10.1.2.3", 5060, Target("10.1.2.3", 5060), None),
    ],
)
async def test_prepared_options_is_the_built_request(
    transport: UdpTransport,
    host: str,
    port: int | None,
    destination: Target,
    request_user: str | None,
) -> None:
    built = build_options_request(
        transport, host, port, destination=destination, request_user=request_user, **IDS
    )
    prepared = prepared_options(
        transport,
        host,
        port,
        destination,
        request_user=request_user,
        from_user="health",
        user_agent="trunk-platform",
        **IDS,
    )
    assert prepared.data == built.to_bytes()
    assert (prepared.method, prepared.branch) == ("OPTIONS", built.branch)
    parsed = parse_message(prepared.data)
    assert isinstance(parsed, SipRequest)
    assert parsed.branch == IDS["branch"] and parsed.call_id == IDS["call_id"]


async def test_each_prepared_options_gets_fresh_ids(transport: UdpTransport) -> None:
    target = Target("127.0.0.1", 5060)
    one, two = (
        prepared_options(
            transport,
            "a.example",
            None,
            target,
            request_user=None,
            from_user="health",
            user_agent="x",
            call_id="c",
        )
        for _ in range(2)
    )
    assert one.branch != two.branch and one.branch.startswith("z9hG4bK")
    first, second = parse_message(one.data), parse_message(two.data)
    assert first.from_tag and first.from_tag != second.from_tag
