"""Kamailio as a carrier edge (Digest, Record-Route, registrar) in front of a sipp switch,
reached with the platform's own SIP transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from shared.sip.testing.lifecycle import bound_transport
from shared.sip.transport import SipTransport

from tests.support.sip_transports import OpenTransport


@pytest.fixture
async def open_transport() -> AsyncIterator[OpenTransport]:
    """`await open_transport(**create_options)` -> a SipTransport on 127.0.0.1 (ephemeral
    port); every one is closed after the test."""
    async with AsyncExitStack() as stack:

        async def open_one(**options: Any) -> SipTransport:
            return await stack.enter_async_context(bound_transport(**options))

        yield open_one
