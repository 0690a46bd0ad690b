"""The hand-encoded RPC messages and acks are byte for byte what aiormq and pamqp send."""

from __future__ import annotations

from typing import Any

import pytest
from aiormq.abc import ChannelFrame
from pamqp import commands as spec
from pamqp.body import ContentBody
from pamqp.header import ContentHeader
from shared.rpc.frames import ack_frame, publish_frames


def _pamqp(
    channel: int,
    routing_key: str,
    body: bytes,
    max_content: int,
    mandatory: bool = False,
    **properties: Any,
) -> bytes:
    frames: list[object] = [
        spec.Basic.Publish(exchange="", routing_key=routing_key, mandatory=mandatory),
        ContentHeader(
            properties=spec.Basic.Properties(
                content_type="application/json", delivery_mode=1, **properties
            ),
            body_size=len(body),
        ),
    ]
    frames += [ContentBody(body[i : i + max_content]) for i in range(0, len(body), max_content)]
    return ChannelFrame.marshall(channel, frames).payload  # type: ignore[arg-type]


REPLIES = [
    (1, "rpc-reply.api-gateway.0f3c", "17", b'{"status_code":200}', 131064),
    (7, "r", None, b"{}", 131064),
    (2, "rpc-reply.x", "123456789", b"", 131064),
    (3, "rpc-reply.ü", "9", b"x" * 100, 30),  # split into 4 body frames
    (65535, "q" * 255, "c" * 255, b"y" * 60, 30),  # exactly two full frames
]


@pytest.mark.parametrize(("channel", "routing_key", "correlation_id", "body", "size"), REPLIES)
def test_replies_match_pamqp(
    channel: int, routing_key: str, correlation_id: str | None, body: bytes, size: int
) -> None:
    mine = publish_frames(channel, routing_key, body, size, correlation_id=correlation_id)
    assert mine == _pamqp(channel, routing_key, body, size, correlation_id=correlation_id)


@pytest.mark.parametrize(
    "properties",
    [
        {
            "correlation_id": "42",
            "reply_to": "rpc-reply.api-gateway.5f1e",
            "expiration": "3000",
            "message_id": "8c3b9f0e5d6a4b1c9e2f7a0b1c2d3e4f",
        },
        {"reply_to": "r", "message_id": "m"},
        {"expiration": "15000"},
    ],
)
@pytest.mark.parametrize("mandatory", [True, False])
def test_requests_match_pamqp(properties: dict[str, str], mandatory: bool) -> None:
    body = b'{"uri":"/v1/providers/x","method":"GET"}'
    mine = publish_frames(
        3, "bin-manager.provider-manager.request", body, 131064, mandatory=mandatory, **properties
    )
    expected = _pamqp(
        3, "bin-manager.provider-manager.request", body, 131064, mandatory, **properties
    )
    assert mine == expected


@pytest.mark.parametrize(("channel", "tag"), [(1, 1), (9, 2**40 + 5), (65535, 2**63 - 1)])
def test_ack_frame_matches_pamqp(channel: int, tag: int) -> None:
    expected = ChannelFrame.marshall(channel, [spec.Basic.Ack(delivery_tag=tag)]).payload
    assert ack_frame(channel, tag) == expected


def test_a_short_string_over_255_bytes_is_refused() -> None:
    with pytest.raises(ValueError):
        publish_frames(1, "k" * 256, b"{}", 1000)
    with pytest.raises(ValueError):
        publish_frames(1, "k", b"{}", 1000, correlation_id="é" * 128)
