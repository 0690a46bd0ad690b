"""The platform's SIP transport as the edge tests open it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.sip.transport import SipTransport

# `await open_transport(**SipTransport.create options)` -> a transport on 127.0.0.1 (the edge
# tests' fixture; it closes every one after the test).
OpenTransport = Callable[..., Awaitable[SipTransport]]
