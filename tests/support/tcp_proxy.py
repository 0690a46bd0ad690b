"""A tiny TCP proxy on loopback that a test can sever and restore.

Put it between one client (or one service) and RabbitMQ to simulate a broker outage for that
client only: severing resets every proxied connection and refuses new ones (each is reset
as soon as it is accepted) until `restore()`. Other users of the broker are not touched,
unlike `rabbitmqctl close_connection` or a broker restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._up = True
        self.accepted = 0  # connections proxied so far
        self.refused = 0  # connections reset because the proxy was severed

    @classmethod
    def for_url(cls, url: str, default_port: int = 5672) -> TcpProxy:
        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or default_port)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, url: str) -> str:
        """`url` with its host and port replaced by this proxy's."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{self.port}" if userinfo else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    @property
    def live(self) -> int:
        """Client connections currently proxied."""
        return len(self._writers) // 2

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def sever(self) -> None:
        """Drop every proxied connection (RST, like a dead peer) and refuse new ones."""
        self._up = False
        self._abort_all()
        await self._drain_tasks()

    def restore(self) -> None:
        self._up = True

    async def stop(self) -> None:
        self._up = False
        if self._server is not None:
            self._server.close()
        self._abort_all()
        await self._drain_tasks()
        if self._server is not None:
            await self._server.wait_closed()

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _drain_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._up:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        if not self._up:  # severed while we were connecting upstream
            self.refused += 1
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self.accepted += 1
        self._writers.update((writer, up_writer))
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer, writer)),
            asyncio.create_task(self._pipe(up_reader, writer, up_writer)),
        ]
        for task in pipes:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        other: asyncio.StreamWriter,
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            # One side gone: take the pair down together, as a real broken link would.
            for end in (writer, other):
                self._writers.discard(end)
                end.transport.abort()
