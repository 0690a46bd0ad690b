"""SDP offer building and answer reading for one G.711 audio stream (RFC 4566, RFC 3264)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from shared.sip.errors import SipParseError


@dataclass(frozen=True, slots=True)
class Codec:
    name: str
    payload_type: int
    clock_rate: int
    silence: int  # the byte that encodes silence in this law

    @property
    def samples_per_20ms(self) -> int:
        return self.clock_rate // 50


PCMU = Codec("PCMU", 0, 8000, 0xFF)
PCMA = Codec("PCMA", 8, 8000, 0xD5)
SUPPORTED_CODECS: tuple[Codec, ...] = (PCMU, PCMA)
TELEPHONE_EVENT_PT = 101


def new_session_id() -> int:
    # RFC 4566 suggests an NTP timestamp; any number unique per session will do
    return random.getrandbits(62)


def build_offer(
    address: str,
    port: int,
    *,
    session_id: int,
    version: int = 1,
    codecs: Sequence[Codec] = SUPPORTED_CODECS,
    telephone_event_pt: int | None = TELEPHONE_EVENT_PT,
    ptime: int = 20,
) -> str:
    family = "IP6" if ":" in address else "IP4"
    payloads = [str(c.payload_type) for c in codecs]
    if telephone_event_pt is not None:
        payloads.append(str(telephone_event_pt))
    lines = [
        "v=0",
        f"o=- {session_id} {version} IN {family} {address}",
        "s=-",
        f"c=IN {family} {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(payloads)}",
    ]
    lines += [f"a=rtpmap:{c.payload_type} {c.name}/{c.clock_rate}" for c in codecs]
    if telephone_event_pt is not None:
        lines.append(f"a=rtpmap:{telephone_event_pt} telephone-event/8000")
        lines.append(f"a=fmtp:{telephone_event_pt} 0-16")
    lines += ["a=sendrecv", f"a=ptime:{ptime}"]
    return "\r\n".join(lines) + "\r\n"


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """The remote side's audio stream as read from its SDP."""

    address: str
    port: int  # 0: the stream was rejected
    payload_types: tuple[int, ...]
    codec: Codec | None  # first payload of theirs that we offered (RFC 3264 section 6.1)
    telephone_event_pt: int | None
    direction: str  # sendrecv, sendonly, recvonly or inactive
    ptime: int | None

    @property
    def rtp_address(self) -> tuple[str, int]:
        return (self.address, self.port)

    @property
    def usable(self) -> bool:
        return self.port != 0 and self.codec is not None and self.address not in ("0.0.0.0", "::")


def parse_sdp(text: str, offered: Sequence[Codec] = SUPPORTED_CODECS) -> MediaDescription:
    """The first audio m-line of an SDP body (answer or early-media description)."""
    session_address: str | None = None
    media_address: str | None = None
    session_direction = "sendrecv"
    in_audio = False
    seen_audio = False
    port = 0
    payloads: tuple[int, ...] = ()
    rtpmap: dict[int, str] = {}
    direction: str | None = None
    ptime: int | None = None
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:].strip()
        if kind == "m":
            if seen_audio:
                break  # only the first audio stream matters
            fields = value.split()
            in_audio = bool(fields) and fields[0] == "audio"
            if in_audio:
                seen_audio = True
                if len(fields) < 4 or not fields[1].split("/")[0].isdigit():
                    raise SipParseError(f"invalid m-line: {line!r}")
                port = int(fields[1].split("/")[0])
                payloads = tuple(int(f) for f in fields[3:] if f.isdigit())
            continue
        if kind == "c":
            fields = value.split()
            if len(fields) < 3:
                raise SipParseError(f"invalid c-line: {line!r}")
            conn = fields[2].split("/")[0]
            if in_audio:
                media_address = conn
            elif not seen_audio:
                session_address = conn
            continue
        if kind != "a":
            continue
        name, _, attr = value.partition(":")
        if name in ("sendrecv", "sendonly", "recvonly", "inactive"):
            if in_audio:
                direction = name
            elif not seen_audio:
                session_direction = name
        elif not in_audio:
            continue
        elif name == "rtpmap":
            pt_text, _, encoding = attr.partition(" ")
            if pt_text.isdigit():
                rtpmap[int(pt_text)] = encoding.strip()
        elif name == "ptime" and attr.strip().isdigit():
            ptime = int(attr.strip())
    if not seen_audio:
        raise SipParseError("SDP has no audio stream")
    address = media_address or session_address
    if address is None:
        raise SipParseError("SDP has no connection address for audio")
    codec: Codec | None = None
    telephone_event: int | None = None
    for pt in payloads:
        encoding = rtpmap.get(pt, "").lower()
        if encoding.startswith("telephone-event/"):
            telephone_event = telephone_event if telephone_event is not None else pt
            continue
        if codec is None:
            for candidate in offered:
                if encoding.startswith(candidate.name.lower() + "/") or (
                    not encoding and pt == candidate.payload_type
                ):
                    codec = candidate
                    break
    return MediaDescription(
        address=address,
        port=port,
        payload_types=payloads,
        codec=codec,
        telephone_event_pt=telephone_event,
        direction=direction or session_direction,
        ptime=ptime,
    )
