"""INVITE construction and the defence-in-depth checks on caller-supplied values."""

from __future__ import annotations

import pytest
from shared.sip.errors import InvalidHeaderError
from shared.sip.invite_request import CallSpec, build_invite
from shared.sip.invite_transaction import build_cancel, build_non2xx_ack
from shared.sip.parser import parse_message


def make(spec: CallSpec) -> bytes:
    spec.validate()
    return build_invite(
        spec,
        sent_by="127.0.0.1:5070",
        call_id="cid-1",
        from_tag="ftag",
        branch="z9hG4bKbr1",
        sdp=b"v=0\r\n",
    ).to_bytes()


def test_invite_headers_in_order_with_extras_verbatim() -> None:
    spec = CallSpec(
        request_uri="sip:990049301234567@carrier.example.com",
        from_user="4930111222",
        from_display='Test "Caller"',
        privacy="id",
        asserted_identity="+4930111222",
        extra_headers=[("X-Campaign-Id", "camp-42"), ("x-lower-CASE", "Keep Me; as=is")],
        user_agent="trunk-test/1",
    )
    text = make(spec).decode()
    head, body = text.split("\r\n\r\n", 1)
    assert head.split("\r\n") == [
        "INVITE sip:990049301234567@carrier.example.com SIP/2.0",
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKbr1;rport",
        "Max-Forwards: 70",
        'From: "Test \\"Caller\\"" <sip:4930111222@carrier.example.com>;tag=ftag',
        "To: <sip:990049301234567@carrier.example.com>",
        "Call-ID: cid-1",
        "CSeq: 1 INVITE",
        "Contact: <sip:4930111222@127.0.0.1:5070>",
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, NOTIFY",
        "User-Agent: trunk-test/1",
        "Privacy: id",
        "P-Asserted-Identity: <tel:+4930111222>",
        "X-Campaign-Id: camp-42",
        "x-lower-CASE: Keep Me; as=is",
        "Content-Type: application/sdp",
        "Content-Length: 5",
    ]
    assert body == "v=0\r\n"


def test_anonymous_call() -> None:
    spec = CallSpec(
        request_uri="sip:123@10.0.0.1:5080",
        from_user="4930111222",
        anonymous=True,
        privacy="id",
        asserted_identity="sip:+4930111222@trunk.example.com",
    )
    msg = parse_message(make(spec))
    assert msg.headers.get("From") == '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=ftag'
    assert msg.headers.get("Contact") == "<sip:127.0.0.1:5070>"  # no identity in Contact
    assert msg.headers.get("P-Asserted-Identity") == "<sip:+4930111222@trunk.example.com>"
    assert spec.destination_host_port() == "10.0.0.1:5080"


def test_destination_and_from_host_overrides() -> None:
    spec = CallSpec(
        request_uri="sip:123@carrier.example.com",
        destination="sbc.example.net:5090",
        from_host="trunk.example.org",
    )
    assert spec.destination_host_port() == "sbc.example.net:5090"
    assert "<sip:anonymous@trunk.example.org>" in spec.from_value("t")


@pytest.mark.parametrize(
    "extra",
    [
        [("X-Evil", "a\r\nVia: SIP/2.0/UDP attacker")],
        [("X-Evil", "a\nb")],
        [("X-Evil", "nul\x00")],
        [("Via", "SIP/2.0/UDP x")],
        [("call-id", "x")],
        [("v", "compact via")],
        [("P-Asserted-Identity", "<tel:+1>")],
        [("Bad Name", "x")],
        [("X:Colon", "x")],
        [("", "x")],
    ],
)
def test_unsafe_extra_headers_are_refused(extra: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidHeaderError):
        CallSpec(request_uri="sip:1@h", extra_headers=extra).validate()


@pytest.mark.parametrize(
    "fields",
    [
        {"request_uri": "sip:1@h\r\nX: y"},
        {"request_uri": "sip:1@h x"},
        {"request_uri": "tel:+123"},
        {"to_uri": "sip:1@h>"},
        {"from_user": "a b"},
        {"from_user": "a@b"},
        {"from_display": "x\r\ny"},
        {"from_host": "h>"},
        {"privacy": "id\r\n"},
        {"privacy": "id, none"},
        {"asserted_identity": "12ab"},
        {"asserted_identity": "+1234567890123456"},
        {"user_agent": "ua\n"},
    ],
)
def test_unsafe_fields_are_refused(fields: dict[str, str]) -> None:
    values: dict[str, str] = {"request_uri": "sip:1@h"} | fields
    with pytest.raises(InvalidHeaderError):
        CallSpec(**values).validate()  # type: ignore[arg-type]


def test_cancel_and_non2xx_ack_follow_the_invite() -> None:
    spec = CallSpec(request_uri="sip:123@10.0.0.1")
    invite = build_invite(
        spec, sent_by="127.0.0.1:5070", call_id="c", from_tag="f", branch="z9hG4bKi"
    )
    invite.headers.add("Route", "<sip:proxy.example.com;lr>")
    cancel = build_cancel(invite)
    assert cancel.uri == invite.uri
    assert cancel.branch == "z9hG4bKi"
    assert cancel.headers.get("To") == "<sip:123@10.0.0.1>"  # no tag, as in the INVITE
    assert cancel.headers.get("From") == invite.headers.get("From")
    assert cancel.cseq == (1, "CANCEL")
    assert cancel.headers.get_all("Route") == ["<sip:proxy.example.com;lr>"]
    busy = parse_message(
        b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKi\r\n"
        b"From: <sip:anonymous@10.0.0.1>;tag=f\r\nTo: <sip:123@10.0.0.1>;tag=uas\r\n"
        b"Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    ack = build_non2xx_ack(invite, busy)  # type: ignore[arg-type]
    assert ack.uri == invite.uri and ack.branch == "z9hG4bKi"
    assert ack.to_tag == "uas" and ack.cseq == (1, "ACK")
    assert ack.headers.get_all("Route") == ["<sip:proxy.example.com;lr>"]
