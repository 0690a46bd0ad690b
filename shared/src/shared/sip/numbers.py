"""Numbers read from the wire: ASCII digits only, bounded.

`str.isdigit()` accepts "²" and other Unicode digits that `int()` then refuses (or reads as
another value), and an unbounded `int()` lets a peer hand us a 10,000-digit port. Every
number the SIP layer parses goes through `parse_uint`.
"""

from __future__ import annotations

from shared.sip.errors import SipParseError

MAX_PORT = 65535
MAX_CSEQ = 2**31 - 1  # RFC 3261 section 8.1.1.5
MAX_CONTENT_LENGTH = 65535  # a UDP datagram cannot carry more
MAX_PAYLOAD_TYPE = 127  # RTP payload type: 7 bits (RFC 3550 section 5.1)


def is_ascii_digits(text: str) -> bool:
    # isdigit() alone admits Unicode digits; an ASCII string's digits are exactly 0-9. Two C
    # calls instead of a generator: four numbers are read from every probe's response.
    return text.isascii() and text.isdigit()


def parse_uint(text: str, what: str, maximum: int, minimum: int = 0) -> int:
    """`text` as a decimal integer in [minimum, maximum]; SipParseError otherwise."""
    if not is_ascii_digits(text) or len(text) > len(str(maximum)) + 8:
        raise SipParseError(f"invalid {what}: {text[:20]!r}")
    value = int(text)
    if not minimum <= value <= maximum:
        raise SipParseError(f"{what} out of range: {value}")
    return value


def parse_port(text: str, what: str = "port") -> int:
    return parse_uint(text, what, MAX_PORT)
