"""The hand-encoded reply and ack are byte for byte what aiormq and pamqp would send."""

from __future__ import annotations

import pytest
from aiormq.abc import ChannelFrame
from pamqp import commands as spec
from pamqp.body import ContentBody
from pamqp.header import ContentHeader
from shared.rpc.reply_frames import ack_frame, reply_frames


def _pamqp_reply(
    channel: int, routing_key: str, correlation_id: str | None, body: bytes, max_content: int
) -> bytes:
    frames: list[object] = [
        spec.Basic.Publish(exchange="", routing_key=routing_key),
        ContentHeader(
            properties=spec.Basic.Properties(
                content_type="application/json",
                correlation_id=correlation_id,
                delivery_mode=1,
            ),
            body_size=len(body),
        ),
    ]
    frames += [ContentBody(body[i : i + max_content]) for i in range(0, len(body), max_content)]
    return ChannelFrame.marshall(channel, frames).payload  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("channel", "routing_key", "correlation_id", "body", "max_content"),
    [
        (1, "rpc-reply.api-gateway.0f3c", "17", b'{"status_code":200}', 131064),
        (7, "r", None, b"{}", 131064),
        (2, "rpc-reply.x", "123456789", b"", 131064),
        (3, "rpc-reply.ü", "9", b"x" * 100, 30),  # split into 4 body frames
        (65535, "q" * 255, "c" * 255, b"y" * 60, 30),  # exactly two full frames
    ],
)
def test_reply_frames_match_pamqp(
    channel: int, routing_key: str, correlation_id: str | None, body: bytes, max_content: int
) -> None:
    assert reply_frames(channel, routing_key, correlation_id, body, max_content) == (
        _pamqp_reply(channel, routing_key, correlation_id, body, max_content)
    )


@pytest.mark.parametrize(("channel", "tag"), [(1, 1), (9, 2**40 + 5), (65535, 2**63 - 1)])
def test_ack_frame_matches_pamqp(channel: int, tag: int) -> None:
    expected = ChannelFrame.marshall(channel, [spec.Basic.Ack(delivery_tag=tag)]).payload
    assert ack_frame(channel, tag) == expected


def test_a_routing_key_over_255_bytes_is_refused() -> None:
    with pytest.raises(ValueError):
        reply_frames(1, "k" * 256, "1", b"{}", 1000)
