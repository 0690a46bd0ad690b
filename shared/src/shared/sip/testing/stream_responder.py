"""TCP/TLS OPTIONS responder for benchmarks, run as its own process:

    python -m shared.sip.testing.stream_responder --ports 10 [--tls-cert C --tls-key K]

Listens on `--ports` ports of every loopback address at once (the sockets are bound to the
wildcard but tied to the loopback device, so nothing off this host can connect), prints one
JSON line {"ports": [...]}, then answers every request on every connection with 200 until
stdin closes, SIGTERM/SIGINT, or --seconds have passed. Many providers are then many
127.x.y.z addresses on a few ports: one listening socket each, however many connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import ssl
import sys
from typing import cast

from shared.sip.testing.udp_peers import fast_response

_SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


class _Answerer(asyncio.Protocol):
    def __init__(self, counter: list[int], status_line: bytes) -> None:
        self._counter = counter
        self._status_line = status_line
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if peer is None or not str(peer[0]).startswith("127."):
            transport.close()  # loopback only, whatever the device binding allowed

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        replies: list[bytes] = []
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            message, self._buffer = self._buffer[: end + 4], self._buffer[end + 4 :]
            reply = fast_response(message, self._status_line, b"bench")
            if reply is not None:
                replies.append(reply)
        if replies and self._transport is not None:
            self._transport.write(b"".join(replies))
            self._counter[0] += len(replies)


def _listener(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_BINDTODEVICE, b"lo")
        sock.bind(("0.0.0.0", port))
    except OSError:
        # no privilege to tie it to the loopback device: 127.0.0.1 only, fewer providers
        sock.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


async def serve(args: argparse.Namespace) -> int:
    _raise_fd_limit()
    context: ssl.SSLContext | None = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    counter = [0]
    loop = asyncio.get_running_loop()
    status = f"SIP/2.0 {args.status}".encode()
    servers = []
    ports = []
    for _ in range(args.ports):
        sock = _listener()
        ports.append(sock.getsockname()[1])
        server = await loop.create_server(
            lambda: _Answerer(counter, status), sock=sock, ssl=context, backlog=4096
        )
        servers.append(server)
    print(json.dumps({"ports": ports, "loopback_wide": _loopback_wide(servers)}), flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: _on_stdin(stop))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), args.seconds)
    for server in servers:
        server.close()
    print(json.dumps({"answered": counter[0]}), flush=True)
    return 0


def _on_stdin(stop: asyncio.Event) -> None:
    try:
        data = os.read(sys.stdin.fileno(), 4096)
    except OSError:
        data = b""
    if not data:
        stop.set()


def _loopback_wide(servers: list[asyncio.Server]) -> bool:
    return all(s.sockets[0].getsockname()[0] == "0.0.0.0" for s in servers)


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ports", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--status", default="200 OK")
    parser.add_argument("--tls-cert", default="")
    parser.add_argument("--tls-key", default="")
    return asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
