"""Reading what a loopback SIP peer received: distinct probes and their spacing."""

from __future__ import annotations

import itertools

from shared.sip.testing.udp_peers import Datagram, SilentPeer, SipResponder

from tests.support.polling import eventually


def branch(message: str) -> str:
    for line in message.split("\r\n"):
        if line.lower().startswith(("via:", "v:")):
            return line.split("branch=", 1)[1].split(";", 1)[0].strip()
    raise AssertionError(f"no Via in {message!r}")


def probes(peer: SipResponder | SilentPeer) -> dict[str, float]:
    """Distinct probes (by Via branch), each at the time of its first transmission."""
    seen: dict[str, float] = {}
    for datagram in peer.received:
        seen.setdefault(branch(datagram.text), datagram.at)
    return seen


def copies_of_first(peer: SipResponder | SilentPeer) -> list[Datagram]:
    """Every transmission of the first request the peer saw (retransmissions included)."""
    first = branch(peer.received[0].text)
    return [d for d in peer.received if branch(d.text) == first]


def gaps(peer: SipResponder | SilentPeer) -> list[float]:
    times = sorted(probes(peer).values())
    return [b - a for a, b in itertools.pairwise(times)]


async def more_probes(peer: SipResponder | SilentPeer, count: int, timeout: float = 8.0) -> None:
    """Wait until `peer` has received `count` more distinct probes than it has now."""
    target = len(probes(peer)) + count

    async def reached() -> bool:
        return len(probes(peer)) >= target

    await eventually(reached, timeout, message=f"{count} more probes at {peer.target}")
