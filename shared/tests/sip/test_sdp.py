"""SDP offer and answer reading."""

from __future__ import annotations

import pytest
from shared.sip.errors import SipParseError
from shared.sip.sdp import PCMA, PCMU, build_offer, parse_sdp


def test_offer_lines() -> None:
    offer = build_offer("127.0.0.1", 40000, session_id=1234, version=1)
    assert offer.split("\r\n") == [
        "v=0",
        "o=- 1234 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        "m=audio 40000 RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=sendrecv",
        "a=ptime:20",
        "",
    ]


def test_offer_ipv6() -> None:
    assert "c=IN IP6 ::1\r\n" in build_offer("::1", 40002, session_id=1)


def test_sipp_style_answer() -> None:
    media = parse_sdp(
        "v=0\no=sipp 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
        "m=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
    )
    assert media.rtp_address == ("127.0.0.1", 6000)
    assert media.codec == PCMU
    assert media.direction == "sendrecv" and media.usable


def test_media_level_connection_and_codec_order() -> None:
    media = parse_sdp(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        "m=audio 30000 RTP/AVP 8 0 96\r\nc=IN IP4 198.51.100.7\r\n"
        "a=rtpmap:96 telephone-event/8000\r\na=ptime:30\r\na=sendonly\r\n"
        "m=video 30002 RTP/AVP 31\r\nc=IN IP4 203.0.113.9\r\n"
    )
    assert media.address == "198.51.100.7"
    assert media.codec == PCMA  # the answerer's first choice among ours
    assert media.telephone_event_pt == 96
    assert (media.ptime, media.direction) == (30, "sendonly")


def test_dynamic_payload_mapped_to_pcmu() -> None:
    media = parse_sdp("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 97\na=rtpmap:97 pcmu/8000\n")
    assert media.codec == PCMU


def test_rejected_or_unsupported_stream_is_not_usable() -> None:
    rejected = parse_sdp("v=0\nc=IN IP4 10.0.0.1\nm=audio 0 RTP/AVP 0\n")
    assert not rejected.usable
    g729 = parse_sdp("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 18\na=rtpmap:18 G729/8000\n")
    assert g729.codec is None and not g729.usable
    hold = parse_sdp("v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 0\n")
    assert not hold.usable


@pytest.mark.parametrize(
    "text",
    ["v=0\nc=IN IP4 10.0.0.1\n", "v=0\nm=audio 4000 RTP/AVP 0\n", "v=0\nm=audio x RTP/AVP 0\n"],
)
def test_unusable_sdp_raises(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_sdp(text)
