"""Where responses to a received request go (RFC 3261 18.2.2, RFC 3581), and the Via stamps."""

from __future__ import annotations

from shared.sip.message import Headers, SipRequest
from shared.sip.target import Target
from shared.sip.transport import reply_target


def request(via: str) -> SipRequest:
    return SipRequest("BYE", "sip:x", Headers([("Via", via), ("Via", "SIP/2.0/UDP p:5060")]))


def test_rport_answers_the_source_port_and_stamps_it() -> None:
    bye = request("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport")
    assert reply_target(bye, Target("203.0.113.9", 40123)) == Target("203.0.113.9", 40123)
    top = bye.vias[0]
    assert top.received == "203.0.113.9" and top.rport == 40123
    assert len(bye.vias) == 2  # the rest of the Via stack is kept


def test_without_rport_the_via_port_at_the_source_address() -> None:
    bye = request("SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKb")
    assert reply_target(bye, Target("203.0.113.9", 40123)) == Target("203.0.113.9", 5070)
    assert bye.vias[0].received == "203.0.113.9" and bye.vias[0].rport is None


def test_same_host_no_stamp_and_default_port() -> None:
    bye = request("SIP/2.0/UDP 203.0.113.9;branch=z9hG4bKc")
    assert reply_target(bye, Target("203.0.113.9", 40123)) == Target("203.0.113.9", 5060)
    assert bye.headers.get("via") == "SIP/2.0/UDP 203.0.113.9;branch=z9hG4bKc"


def test_connections_answer_over_themselves() -> None:
    bye = request("SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKd")
    peer = Target("203.0.113.9", 40123, "tcp")
    assert reply_target(bye, peer) == peer
