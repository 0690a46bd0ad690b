"""`async with` for the test doubles: the ones that start and stop (sipp, kamailio, fake
servers) run for the block; the ones already bound (UDP peers, the DNS server, a SIP
transport) are closed after it, whatever happened in the block."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

from shared.sip.transport import SipTransport


class StartedInBlock:
    """Base of a double with `async start()` and `async stop()`: `async with double:` runs
    it for the block and gives the double itself."""

    async def start(self) -> Any:
        raise NotImplementedError

    async def stop(self) -> Any:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


class ClosedAfterBlock:
    """Base of a double that is bound once started and has `close()`:
    `async with await Double.start() as double:` closes it after the block."""

    def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


@asynccontextmanager
async def bound_transport(
    host: str = "127.0.0.1", port: int = 0, **options: Any
) -> AsyncIterator[SipTransport]:
    """A SipTransport (UDP, and TCP/TLS on demand) for the block; closed and drained after."""
    transport = await SipTransport.create(host, port, **options)
    try:
        yield transport
    finally:
        transport.close()
        await transport.wait_closed()
