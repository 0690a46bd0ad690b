"""Fuzz targets for the parsers that read what carriers send.

A target gets raw bytes and drives the parser and every accessor the stack uses on a
parsed message. SipError (SipParseError, InvalidHeaderError) is the refusal the stack
handles; any other exception is a finding.
"""

from __future__ import annotations

import contextlib

from shared.sip.dialog import Dialog
from shared.sip.errors import SipError
from shared.sip.message import SipRequest, SipResponse
from shared.sip.parser import parse_message
from shared.sip.sdp import MIRRORED_DIRECTION, build_answer, parse_sdp
from shared.sip.uri import parse_name_addr
from shared.sip.via import parse_via

_INVITE = SipRequest(
    "INVITE",
    "sip:1@127.0.0.1",
    [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKfuzz;rport"),
        ("From", "<sip:a@127.0.0.1>;tag=fuzz"),
        ("To", "<sip:1@127.0.0.1>"),
        ("Call-ID", "fuzz"),
        ("CSeq", "1 INVITE"),
    ],
)


def sip_message(data: bytes) -> None:
    try:
        message = parse_message(data)
    except SipError:
        return
    for step in (
        lambda: message.cseq,
        lambda: message.vias,
        lambda: message.branch,
        lambda: (message.from_tag, message.to_tag, message.call_id, message.content_type),
        lambda: [parse_name_addr(c) for c in message.headers.get_list("contact")],
        lambda: [parse_name_addr(r) for r in message.headers.get_list("record-route")],
        lambda: [parse_via(v).rport for v in message.headers.get_list("via")],
        lambda: message.to_bytes(),
    ):
        with contextlib.suppress(SipError):
            step()
    if isinstance(message, SipResponse):
        try:
            dialog = Dialog.from_response(_INVITE, message)
            dialog.build_request("BYE", "127.0.0.1:5080")
        except SipError:
            pass
        if message.body:
            sdp(message.body)


def sdp(data: bytes) -> None:
    try:
        media = parse_sdp(data.decode("utf-8", "replace"))
    except SipError:
        return
    _ = (media.usable, media.rtp_address)
    build_answer(
        "127.0.0.1",
        0 if media.port == 0 else 40000,
        session_id=1,
        version=2,
        codec=media.codec,
        telephone_event_pt=media.telephone_event_pt,
        direction=MIRRORED_DIRECTION[media.direction],
    )


TARGETS = {"sip": sip_message, "sdp": sdp}
