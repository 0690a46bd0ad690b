"""RPC messages and acks as AMQP 0-9-1 frames, encoded in one pass.

aiormq's basic_publish builds pamqp objects for the method, header and body frames, marshals
each through pamqp's generic encoders, and wraps the write in a lock, a timeout scope and a
cancellation guard; basic_ack does the same for its one frame. For the two messages every
RPC is (request and reply) that was about an eighth of each side's CPU per call. The RPC
client and server encode their frames here instead (the same bytes, byte for byte: the
tests compare with pamqp's) and queue them on the connection's writer themselves.

AMQP 0-9-1 section 4.2.3: a frame is type (1 octet), channel (2), payload size (4), the
payload, and 0xCE. Basic.Publish is class 60 method 40, Basic.Ack class 60 method 80; the
content header carries the body size and the properties present, in flag order.
"""

from __future__ import annotations

import struct

_METHOD, _HEADER, _BODY = 1, 2, 3
_BASIC, _PUBLISH, _ACK = 60, 40, 80
_FRAME_END = b"\xce"
_JSON = b"\x10application/json"  # the content type as a short string
_TRANSIENT = b"\x01"  # delivery mode 1
# Property flags, highest bit first: content-type 15, delivery-mode 12, correlation-id 10,
# reply-to 9, expiration 8, message-id 7. The values follow in the same order.
_CONTENT_TYPE, _DELIVERY_MODE = 1 << 15, 1 << 12
_CORRELATION_ID, _REPLY_TO, _EXPIRATION, _MESSAGE_ID = 1 << 10, 1 << 9, 1 << 8, 1 << 7


def _frame(kind: int, channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", kind, channel, len(payload)) + payload + _FRAME_END


def _short_string(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 255:
        raise ValueError(f"AMQP short string over 255 bytes: {text[:40]!r}...")
    return bytes((len(raw),)) + raw


def ack_frame(channel: int, delivery_tag: int) -> bytes:
    return _frame(_METHOD, channel, struct.pack(">HHQB", _BASIC, _ACK, delivery_tag, 0))


def publish_frames(
    channel: int,
    routing_key: str,
    body: bytes,
    max_content: int,
    *,
    correlation_id: str | None = None,
    reply_to: str | None = None,
    expiration: str | None = None,
    message_id: str | None = None,
    mandatory: bool = False,
) -> bytes:
    """A transient JSON message to the default exchange: publish, header and body frames
    (`max_content` bytes of body at most each, as the connection's frame_max allows)."""
    publish = struct.pack(">HHH", _BASIC, _PUBLISH, 0) + b"\x00" + _short_string(routing_key)
    flags = _CONTENT_TYPE | _DELIVERY_MODE
    properties = [_JSON, _TRANSIENT]
    for flag, value in (
        (_CORRELATION_ID, correlation_id),
        (_REPLY_TO, reply_to),
        (_EXPIRATION, expiration),
        (_MESSAGE_ID, message_id),
    ):
        if value is not None:
            flags |= flag
            properties.append(_short_string(value))
    header = struct.pack(">HHQH", _BASIC, 0, len(body), flags) + b"".join(properties)
    frames = [
        _frame(_METHOD, channel, publish + (b"\x01" if mandatory else b"\x00")),
        _frame(_HEADER, channel, header),
    ]
    frames += [
        _frame(_BODY, channel, body[start : start + max_content])
        for start in range(0, len(body), max_content)
    ]
    return b"".join(frames)
