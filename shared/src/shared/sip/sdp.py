"""SDP offer building and answer reading for one G.711 audio stream (RFC 4566, RFC 3264)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from shared.sip.errors import SipParseError
from shared.sip.numbers import MAX_PAYLOAD_TYPE, is_ascii_digits, parse_port
from shared.sip.uri import is_ip_literal


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


# RFC 3264 section 6.1: what an answer says to each offered direction.
MIRRORED_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


def build_answer(
    address: str,
    port: int,
    *,
    session_id: int,
    version: int,
    codec: Codec | None,
    telephone_event_pt: int | None,
    direction: str,
    ptime: int = 20,
) -> str:
    """An answer with one audio m-line: the codec kept, `port` 0 for a refused stream."""
    family = "IP6" if ":" in address else "IP4"
    formats = [str(codec.payload_type)] if codec is not None else ["0"]
    if telephone_event_pt is not None and codec is not None:
        formats.append(str(telephone_event_pt))
    lines = [
        "v=0",
        f"o=- {session_id} {version} IN {family} {address}",
        "s=-",
        f"c=IN {family} {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(formats)}",
    ]
    if codec is not None:
        lines.append(f"a=rtpmap:{codec.payload_type} {codec.name}/{codec.clock_rate}")
    if telephone_event_pt is not None and codec is not None:
        lines.append(f"a=rtpmap:{telephone_event_pt} telephone-event/8000")
        lines.append(f"a=fmtp:{telephone_event_pt} 0-16")
    lines += [f"a={direction}", f"a=ptime:{ptime}"]
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


def _payload_types(fields: Sequence[str]) -> Iterator[int]:
    """RTP/AVP formats are payload type numbers 0-127; anything else is skipped."""
    for field in fields:
        if is_ascii_digits(field) and len(field) <= 3 and int(field) <= MAX_PAYLOAD_TYPE:
            yield int(field)


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
                if len(fields) < 4:
                    raise SipParseError(f"invalid m-line: {line[:80]!r}")
                port = parse_port(fields[1].split("/")[0], "m-line port")
                payloads = tuple(_payload_types(fields[3:]))
            continue
        if kind == "c":
            fields = value.split()
            if len(fields) < 3:
                raise SipParseError(f"invalid c-line: {line!r}")
            conn = fields[2].split("/")[0]
            if "%" in conn or not is_ip_literal(conn):
                # A host name would need a DNS lookup per call on the media path; RFC 3264
                # answers from carriers carry addresses, so a name is refused outright.
                raise SipParseError(f"c= address is not an IP literal: {conn[:80]!r}")
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
            if is_ascii_digits(pt_text) and len(pt_text) <= 3:
                rtpmap[int(pt_text)] = encoding.strip()
        elif name == "ptime" and is_ascii_digits(attr.strip()) and len(attr.strip()) <= 4:
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
