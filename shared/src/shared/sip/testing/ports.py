"""Free loopback port discovery for test peers."""

from __future__ import annotations

import random
import socket


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A port the kernel just gave out and took back; racy in theory, fine on a test host."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_sip_port(host: str = "0.0.0.0") -> int:
    """A port free for UDP and TCP at once on `host` (a SIP service listens on both, on all
    interfaces by default): a port free for UDP on loopback alone may be taken for TCP, or
    on another address, and the service then fails to start."""
    for _ in range(50):
        port = free_udp_port(host)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((host, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP")


def udp_ports_free(host: str, ports: list[int]) -> bool:
    socks: list[socket.socket] = []
    try:
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(sock)
            sock.bind((host, port))
    except OSError:
        return False
    finally:
        for sock in socks:
            sock.close()
    return True


def free_even_port_block(host: str = "127.0.0.1", size: int = 4) -> int:
    """An even port p with p..p+size-1 free, below the ephemeral range (sipp media ports)."""
    for _ in range(200):
        port = random.randrange(20000, 32000, 2)
        if udp_ports_free(host, list(range(port, port + size))):
            return port
    raise RuntimeError("no free port block found")
