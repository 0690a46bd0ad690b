"""RTCP sender reports (RFC 3550 sections 6.4.1 and 6.5): one compound packet, SR + SDES CNAME.

A carrier's media gateway uses them for call-quality statistics and, on some, as a sign that
the far end is alive; sent every few seconds per stream.
"""

from __future__ import annotations

import struct
import time

_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
_SR = struct.Struct("!BBHIIIIII")
RTCP_SR = 200
RTCP_SDES = 202
SDES_CNAME = 1


def ntp_timestamp(now: float | None = None) -> tuple[int, int]:
    """(seconds since 1900, fraction of a second in 1/2**32) of wall-clock `now`."""
    stamp = time.time() if now is None else now
    seconds = int(stamp) + _NTP_EPOCH_OFFSET
    fraction = int((stamp % 1.0) * 2**32) & 0xFFFFFFFF
    return seconds & 0xFFFFFFFF, fraction


def sender_report(
    ssrc: int,
    rtp_timestamp: int,
    packets: int,
    octets: int,
    cname: bytes,
    now: float | None = None,
) -> bytes:
    """An SR with no report blocks, followed by SDES with our CNAME (a compound packet)."""
    ntp_seconds, ntp_fraction = ntp_timestamp(now)
    report = _SR.pack(
        0x80,  # V=2, P=0, RC=0
        RTCP_SR,
        6,  # length in 32-bit words minus one
        ssrc,
        ntp_seconds,
        ntp_fraction,
        rtp_timestamp & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )
    cname = cname[:255]
    item = bytes([SDES_CNAME, len(cname)]) + cname + b"\x00"  # the null ends the item list
    item += b"\x00" * (-len(item) % 4)
    chunk = struct.pack("!I", ssrc) + item
    sdes = struct.pack("!BBH", 0x81, RTCP_SDES, len(chunk) // 4) + chunk
    return report + sdes
