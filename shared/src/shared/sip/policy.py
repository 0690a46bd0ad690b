"""Where one call may send SIP and RTP: the hook `OutboundCall` asks before every send to an
address it did not choose itself.

A call learns addresses from the far end: the Contact of a 3xx (where a new INVITE goes),
the Contact and Record-Route of its 2xx (where ACK and BYE go), the SDP connection address
and the source its RTP comes from (where our RTP goes: symmetric RTP latches to it). A
hostile or careless peer can point those at 127.0.0.1, a private network or a cloud
metadata address, turning us into its UDP cannon, or at a carrier, turning us into its
free trunk. The SIP layer therefore asks a `RemotePolicy` for each of them, and for the
call's own first hops (DNS may answer differently than when the call was accepted); the
service decides what is acceptable (see call-manager's `policy/`).

`OPEN_POLICY` (the default) allows everything: probes and tests that need no policy.
"""

from __future__ import annotations

from typing import Protocol


class RemotePolicy(Protocol):
    async def first_hops(self, hosts: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """The resolved INVITE targets this call may use (in order); the rest are dropped."""
        ...

    async def redirect_hops(self, hosts: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """The resolved targets of a 3xx's Contact this call may follow (in order)."""
        ...

    def allows_signalling(self, host: str, port: int) -> bool:
        """May in-dialog requests (ACK, BYE, ...) go to host:port (a resolved address)?"""
        ...

    def allows_media(self, host: str, port: int) -> bool:
        """May RTP go to host:port (from the answer's SDP, or the source RTP came from)?"""
        ...


class _Open:
    async def first_hops(self, hosts: list[tuple[str, int]]) -> list[tuple[str, int]]:
        return hosts

    async def redirect_hops(self, hosts: list[tuple[str, int]]) -> list[tuple[str, int]]:
        return hosts

    def allows_signalling(self, host: str, port: int) -> bool:
        return True

    def allows_media(self, host: str, port: int) -> bool:
        return True


OPEN_POLICY: RemotePolicy = _Open()
