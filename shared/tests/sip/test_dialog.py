"""Dialog creation from a 2xx, route sets, in-dialog request construction."""

from __future__ import annotations

from shared.sip.dialog import Dialog
from shared.sip.invite_request import CallSpec, build_invite
from shared.sip.message import SipResponse
from shared.sip.parser import parse_message


def invite_and_ok(record_route: str | None) -> tuple[Dialog, int]:
    invite = build_invite(
        CallSpec(request_uri="sip:123@carrier.example.com"),
        sent_by="127.0.0.1:5070",
        call_id="c1",
        from_tag="mine",
        branch="z9hG4bKx",
        cseq=7,
    )
    rr = f"Record-Route: {record_route}\r\n" if record_route else ""
    ok = parse_message(
        (
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\n"
            f"From: {invite.headers.get('From')}\r\n"
            "To: <sip:123@carrier.example.com>;tag=theirs\r\n"
            f"Call-ID: c1\r\nCSeq: 7 INVITE\r\n{rr}"
            "Contact: <sip:uas@192.0.2.10:5062;transport=udp>\r\n\r\n"
        ).encode()
    )
    assert isinstance(ok, SipResponse)
    return Dialog.from_response(invite, ok), 7


def test_no_routes_targets_the_contact() -> None:
    dialog, cseq = invite_and_ok(None)
    assert (dialog.local_tag, dialog.remote_tag) == ("mine", "theirs")
    assert str(dialog.next_hop()) == "sip:uas@192.0.2.10:5062;transport=udp"
    ack = dialog.build_request("ACK", "127.0.0.1:5070", cseq=cseq)
    assert ack.uri == "sip:uas@192.0.2.10:5062;transport=udp"
    assert ack.cseq == (7, "ACK") and "route" not in ack.headers
    assert ack.branch != "z9hG4bKx" and (ack.branch or "").startswith("z9hG4bK")
    assert ack.to_tag == "theirs" and ack.from_tag == "mine"
    bye = dialog.build_request("BYE", "127.0.0.1:5070")
    assert bye.cseq == (8, "BYE")
    assert dialog.build_request("BYE", "127.0.0.1:5070").cseq == (9, "BYE")


def test_loose_route_set_is_the_reversed_record_route() -> None:
    dialog, cseq = invite_and_ok("<sip:p2.example.com;lr>, <sip:192.0.2.1:5060;lr;ftag=mine>")
    assert dialog.route_set == ["<sip:192.0.2.1:5060;lr;ftag=mine>", "<sip:p2.example.com;lr>"]
    hop = dialog.next_hop()
    assert (hop.host, hop.port) == ("192.0.2.1", 5060)
    ack = dialog.build_request("ACK", "127.0.0.1:5070", cseq=cseq)
    assert ack.uri == "sip:uas@192.0.2.10:5062;transport=udp"  # lr: target stays in R-URI
    assert ack.headers.get_all("Route") == [
        "<sip:192.0.2.1:5060;lr;ftag=mine>",
        "<sip:p2.example.com;lr>",
    ]


def test_strict_router_gets_the_request_uri() -> None:
    dialog, cseq = invite_and_ok("<sip:p2.example.com;lr>, <sip:strict.example.com:5080>")
    ack = dialog.build_request("ACK", "127.0.0.1:5070", cseq=cseq)
    assert ack.uri == "sip:strict.example.com:5080"
    assert ack.headers.get_all("Route") == [
        "<sip:p2.example.com;lr>",
        "<sip:uas@192.0.2.10:5062;transport=udp>",
    ]
    assert dialog.next_hop().host == "strict.example.com"


def test_incoming_request_matching() -> None:
    dialog, _ = invite_and_ok(None)
    bye = parse_message(
        b"BYE sip:anonymous@127.0.0.1:5070 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKb\r\n"
        b"From: <sip:123@carrier.example.com>;tag=theirs\r\nTo: <sip:x@y>;tag=mine\r\n"
        b"Call-ID: c1\r\nCSeq: 1 BYE\r\n\r\n"
    )
    other = parse_message(
        b"BYE sip:anonymous@127.0.0.1:5070 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKb\r\n"
        b"From: <sip:123@carrier.example.com>;tag=fork2\r\nTo: <sip:x@y>;tag=mine\r\n"
        b"Call-ID: c1\r\nCSeq: 1 BYE\r\n\r\n"
    )
    assert dialog.matches_request(bye)  # type: ignore[arg-type]
    assert not dialog.matches_request(other)  # type: ignore[arg-type]
