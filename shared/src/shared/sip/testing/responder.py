"""Many-port OPTIONS responder for benchmarks, run as its own process:

    python -m shared.sip.testing.responder --ports 10000 --seconds 60

It binds the ports (ephemeral, loopback), prints one JSON line {"ports": [...]}, answers every
request with 200 until stdin closes, SIGTERM/SIGINT, or --seconds have passed. A plain
selector loop, no asyncio: the responder must cost far less CPU than the client it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import socket
import sys
import time

from shared.sip.testing.udp_peers import fast_response


def serve(ports: int, host: str, seconds: float, status_line: bytes) -> int:
    selector = selectors.DefaultSelector()
    socks: list[socket.socket] = []
    by_fd: dict[int, socket.socket] = {}
    for _ in range(ports):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((host, 0))
        sock.setblocking(False)
        selector.register(sock.fileno(), selectors.EVENT_READ)
        socks.append(sock)
        by_fd[sock.fileno()] = sock
    stdin_fd = sys.stdin.fileno()
    selector.register(stdin_fd, selectors.EVENT_READ)
    print(json.dumps({"ports": [s.getsockname()[1] for s in socks]}), flush=True)

    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    answered = 0
    deadline = time.monotonic() + seconds
    while not stop and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            if key.fd == stdin_fd:
                if not os.read(stdin_fd, 4096):
                    stop = True
                continue
            sock = by_fd[key.fd]
            while True:
                try:
                    data, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                reply = fast_response(data, status_line, b"bench")
                if reply is not None:
                    sock.sendto(reply, addr)
                    answered += 1
    for sock in socks:
        sock.close()
    print(json.dumps({"answered": answered}), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ports", type=int, default=100)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--status", default="200 OK")
    args = parser.parse_args()
    return serve(args.ports, args.host, args.seconds, f"SIP/2.0 {args.status}".encode())


if __name__ == "__main__":
    sys.exit(main())
