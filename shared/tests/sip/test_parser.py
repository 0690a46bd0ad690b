"""Message splitter and header access: tolerant forms and speed."""

from __future__ import annotations

import time

import pytest
from shared.sip.errors import SipParseError
from shared.sip.message import Headers, SipRequest, SipResponse, build_response
from shared.sip.parser import parse_message

OPTIONS_200 = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKabc;rport=40000;received=127.0.0.1\r\n"
    b"From: <sip:health@127.0.0.1:40000>;tag=abcdef\r\n"
    b"To: <sip:127.0.0.1:5060>;tag=1234SIPpTag01\r\n"
    b"Call-ID: 0123456789abcdef\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Contact: <sip:127.0.0.1:5060;transport=UDP>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_response_fields() -> None:
    msg = parse_message(OPTIONS_200)
    assert isinstance(msg, SipResponse)
    assert (msg.status_code, msg.reason) == (200, "OK")
    assert msg.branch == "z9hG4bKabc"
    assert msg.cseq == (1, "OPTIONS")
    assert msg.call_id == "0123456789abcdef"
    assert msg.from_tag == "abcdef"
    assert msg.to_tag == "1234SIPpTag01"
    assert msg.body == b""
    via = msg.vias[0]
    assert (via.host, via.port, via.rport, via.received) == ("127.0.0.1", 40000, 40000, "127.0.0.1")


def test_lf_only_line_ends_and_body() -> None:
    data = OPTIONS_200.replace(b"\r\n", b"\n").replace(
        b"Content-Length: 0\n\n", b"Content-Type: application/sdp\nContent-Length: 4\n\nv=0\nXX"
    )
    msg = parse_message(data)
    assert msg.cseq == (1, "OPTIONS")
    assert msg.headers.get("allow") == "INVITE, ACK, CANCEL, BYE, OPTIONS"
    assert msg.content_type == "application/sdp"
    assert msg.body == b"v=0\n"  # Content-Length trims trailing datagram garbage


def test_folded_header_lines() -> None:
    data = (
        b"SIP/2.0 180 Ringing\r\n"
        b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
        b"Subject: I know you're there,\r\n"
        b"   pick up the phone\r\n"
        b"\tand talk to me!\r\n"
        b"CSeq: 7 INVITE\r\n\r\n"
    )
    msg = parse_message(data)
    assert msg.headers.get("subject") == "I know you're there, pick up the phone and talk to me!"
    assert msg.cseq == (7, "INVITE")


def test_compact_forms_and_case_insensitive_lookup() -> None:
    data = (
        b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        b"v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
        b"f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        b"t: Bob <sip:bob@biloxi.example.com>\r\n"
        b"i: a84b4c76e66710\r\n"
        b"CSEQ: 314159 INVITE\r\n"
        b"m: <sip:alice@pc33.atlanta.example.com>\r\n"
        b"k: 100rel\r\n"
        b"c: application/sdp\r\n"
        b"l: 3\r\n\r\nv=0"
    )
    msg = parse_message(data)
    assert isinstance(msg, SipRequest)
    assert (msg.method, msg.uri) == ("INVITE", "sip:bob@biloxi.example.com")
    assert msg.headers.get("Via") == msg.headers.get("v")
    assert msg.headers.get("CALL-ID") == "a84b4c76e66710"
    assert msg.headers.get("contact") == "<sip:alice@pc33.atlanta.example.com>"
    assert msg.headers.get("supported") == "100rel"
    assert msg.content_type == "application/sdp"
    assert msg.cseq == (314159, "INVITE")
    assert msg.from_tag == "1928301774"
    assert msg.to_tag is None
    assert msg.body == b"v=0"
    # original spelling is kept for whoever re-emits the headers
    assert [name for name, _ in msg.headers][:2] == ["v", "f"]


def test_multiple_via_comma_list_and_lines() -> None:
    data = (
        b"SIP/2.0 200 OK\r\n"
        b"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa, SIP / 2.0 / UDP b.example.com:5070"
        b";branch=z9hG4bKb;received=10.1.1.1\r\n"
        b"Via: SIP/2.0/UDP [2001:db8::9]:5080;branch=z9hG4bKc\r\n"
        b"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
        b'Record-Route: "Proxy, the third" <sip:p3.example.com;lr>\r\n'
        b"CSeq: 2 BYE\r\n\r\n"
    )
    msg = parse_message(data)
    vias = msg.vias
    assert [v.branch for v in vias] == ["z9hG4bKa", "z9hG4bKb", "z9hG4bKc"]
    assert (vias[1].host, vias[1].port, vias[1].received) == ("b.example.com", 5070, "10.1.1.1")
    assert (vias[2].host, vias[2].port) == ("2001:db8::9", 5080)
    assert msg.branch == "z9hG4bKa"  # dispatch uses the top one only
    assert msg.headers.get_list("record-route") == [
        "<sip:p1.example.com;lr>",
        "<sip:p2.example.com;lr>",
        '"Proxy, the third" <sip:p3.example.com;lr>',
    ]
    assert len(msg.headers.get_all("via")) == 2


def test_leading_crlf_and_spaces_around_colon() -> None:
    msg = parse_message(b"\r\n\r\nSIP/2.0 503 Service Unavailable\r\nCSeq : 1 OPTIONS\r\n\r\n")
    assert isinstance(msg, SipResponse)
    assert msg.reason == "Service Unavailable"
    assert msg.cseq == (1, "OPTIONS")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"HELLO\r\n\r\n",
        b"SIP/2.0 2000 OK\r\n\r\n",
        b"SIP/3.0 200 OK\r\n\r\n",
        b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n",
    ],
)
def test_garbage_is_rejected(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse_message(data)


def test_serialise_round_trip_keeps_case_and_computes_length() -> None:
    req = SipRequest(
        "INVITE",
        "sip:123@example.com",
        Headers([("Via", "SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bKx"), ("X-Campaign-Id", "c1")]),
        b"v=0\r\n",
    )
    req.headers.add("Content-Length", "999")  # ignored: the body decides
    wire = req.to_bytes()
    assert wire.startswith(b"INVITE sip:123@example.com SIP/2.0\r\n")
    assert b"\r\nX-Campaign-Id: c1\r\n" in wire
    assert wire.endswith(b"Content-Length: 5\r\n\r\nv=0\r\n")
    again = parse_message(wire)
    assert again.headers.get("x-campaign-id") == "c1"
    assert again.body == b"v=0\r\n"


def test_headers_set_and_remove() -> None:
    headers = Headers([("Route", "<sip:a>"), ("To", "<sip:b>"), ("route", "<sip:c>")])
    headers.set("ROUTE", "<sip:z>")
    assert headers.items() == [("ROUTE", "<sip:z>"), ("To", "<sip:b>")]
    headers.remove("t")
    assert "to" not in headers and len(headers) == 1


def test_build_response_copies_vias_in_order_and_adds_to_tag() -> None:
    req = parse_message(
        b"BYE sip:me@127.0.0.1:5060 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK2\r\n"
        b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
        b"From: <sip:carrier@10.0.0.2>;tag=far\r\n"
        b"To: <sip:me@127.0.0.1>\r\n"
        b"Call-ID: abc\r\nCSeq: 3 BYE\r\nMax-Forwards: 70\r\n\r\n"
    )
    assert isinstance(req, SipRequest)
    resp = build_response(req, 200, "OK", to_tag="near")
    wire = resp.to_bytes()
    assert wire.index(b"z9hG4bK2") < wire.index(b"z9hG4bK1")
    assert resp.to_tag == "near" and resp.from_tag == "far"
    assert "max-forwards" not in resp.headers
    assert resp.cseq == (3, "BYE")


def test_parse_speed_10k_responses_well_under_a_cpu_second() -> None:
    start = time.process_time()
    for _ in range(10_000):
        msg = parse_message(OPTIONS_200)
        assert msg.branch is not None
        _ = msg.cseq
    elapsed = time.process_time() - start
    assert elapsed < 0.5, f"10,000 responses took {elapsed:.3f} CPU-s"
