"""Message boundaries on a byte stream (RFC 3261 section 18.3): the head ends at the first
empty line and Content-Length counts the body. Between messages a double CRLF is a RFC 5626
keep-alive ping (answered with one CRLF); single CRLFs are tolerated and skipped.
"""

from __future__ import annotations

import re

from shared.sip.errors import SipParseError

DEFAULT_MAX_MESSAGE = 65536
_CONTENT_LENGTH_RE = re.compile(
    rb"^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)


class StreamFramer:
    """Feed bytes as they arrive; get whole messages back. Raises SipParseError when the
    stream cannot be framed any more (oversized or contradictory): close the connection then.
    """

    __slots__ = ("_buffer", "max_message", "pings")

    def __init__(self, max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self._buffer = bytearray()
        self.max_message = max_message
        self.pings = 0  # double-CRLF pings seen, each owed a CRLF pong

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        while buffer:
            skipped = _leading_line_ends(buffer)
            if skipped:
                if buffer[:skipped].count(b"\n") >= 2:
                    self.pings += 1
                del buffer[:skipped]
                continue
            head_end, separator = _head_end(buffer)
            if head_end < 0:
                if len(buffer) > self.max_message:
                    raise SipParseError(f"no end of headers within {self.max_message} bytes")
                break
            head = bytes(buffer[:head_end])
            match = _CONTENT_LENGTH_RE.search(head)
            length = int(match.group(1)) if match else 0
            total = head_end + separator + length
            if total > self.max_message:
                raise SipParseError(f"message of {total} bytes exceeds {self.max_message}")
            if len(buffer) < total:
                break
            messages.append(bytes(buffer[:total]))
            del buffer[:total]
        return messages

    @property
    def buffered(self) -> int:
        return len(self._buffer)


def _leading_line_ends(buffer: bytearray) -> int:
    i = 0
    n = len(buffer)
    while i < n and buffer[i] in (0x0D, 0x0A):
        i += 1
    return i


def _head_end(buffer: bytearray) -> tuple[int, int]:
    """(offset of the empty line, its length) or (-1, 0) while the head is incomplete."""
    crlf = buffer.find(b"\r\n\r\n")
    lf = buffer.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, 4
    if lf >= 0:
        return lf, 2
    return -1, 0
