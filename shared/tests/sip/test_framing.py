"""Stream framing (RFC 3261 section 18.3): Content-Length bounds, partial reads, keep-alives."""

from __future__ import annotations

import pytest
from shared.sip.errors import SipParseError
from shared.sip.framing import StreamFramer

OPTIONS = b"OPTIONS sip:a SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n"
INVITE = b"INVITE sip:a SIP/2.0\r\nl: 5\r\nCall-ID: 2\r\n\r\nhello"


def test_messages_split_and_joined_arbitrarily() -> None:
    stream = OPTIONS + INVITE + OPTIONS
    for size in (1, 7, 64, len(stream)):
        framer = StreamFramer()
        out: list[bytes] = []
        for i in range(0, len(stream), size):
            out.extend(framer.feed(stream[i : i + size]))
        assert out == [OPTIONS, INVITE, OPTIONS]
        assert framer.buffered == 0


def test_body_waits_for_content_length() -> None:
    framer = StreamFramer()
    assert framer.feed(INVITE[:-2]) == []
    assert framer.feed(INVITE[-2:]) == [INVITE]


def test_keepalive_ping_is_counted_and_skipped() -> None:
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n") == []
    assert framer.pings == 1
    assert framer.feed(b"\r\n" + OPTIONS) == [OPTIONS]  # a lone CRLF is no ping
    assert framer.pings == 1


def test_missing_content_length_means_no_body() -> None:
    bare = b"BYE sip:a SIP/2.0\r\nCall-ID: 3\r\n\r\n"
    assert StreamFramer().feed(bare + OPTIONS) == [bare, OPTIONS]


@pytest.mark.parametrize(
    "garbage",
    [
        b"X" * 300,  # no end of headers within the limit
        b"INVITE sip:a SIP/2.0\r\nContent-Length: 100000\r\n\r\n",  # announces too much
    ],
)
def test_unframable_streams_raise(garbage: bytes) -> None:
    with pytest.raises(SipParseError):
        StreamFramer(max_message=256).feed(garbage)
