"""The parsers refuse hostile input with SipError only: known cases, then a bounded atheris
round per target (`make fuzz` runs the long one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from shared.sip.errors import SipParseError
from shared.sip.message import SipRequest
from shared.sip.parser import parse_message
from shared.sip.sdp import parse_sdp
from shared.sip.via import parse_via

FUZZ = Path(__file__).parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ))
from targets import TARGETS  # type: ignore[import-not-found,unused-ignore]  # noqa: E402

SDP_HEAD = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"


@pytest.mark.parametrize(
    "data",
    [
        b"SIP/2.0 2\xc2\xb200 OK\r\n\r\n",  # a superscript digit in the status code
        b"SIP/2.0 999 Nope\r\n\r\n",
        "INVITE sip:a@b SIP/2.0\r\nContent-Length: ²\r\n\r\n".encode(),
        b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 123456789012345678901234567890\r\n\r\n",
        "BYE sip:a@b SIP/2.0\r\nCSeq: \uff16\uff10 BYE\r\n\r\n".encode(),  # full-width digits
        "IN\u00e9VITE sip:a@b SIP/2.0\r\n\r\n".encode(),
    ],
)
def test_hostile_messages_are_refused_as_parse_errors(data: bytes) -> None:
    with pytest.raises(SipParseError):
        message = parse_message(data)
        assert isinstance(message, SipRequest)
        message.cseq  # noqa: B018


def test_unicode_digits_in_cseq_and_rport_are_refused() -> None:
    message = parse_message("BYE sip:a@b SIP/2.0\r\nCSeq: ²3 BYE\r\n\r\n".encode())
    with pytest.raises(SipParseError):
        message.cseq  # noqa: B018
    assert parse_via("SIP/2.0/UDP 1.2.3.4;rport=¹;branch=z9hG4bKx").rport is None
    assert parse_via("SIP/2.0/UDP 1.2.3.4;rport=70000;branch=z9hG4bKx").rport is None


@pytest.mark.parametrize(
    ("media", "problem"),
    [
        ("c=IN IP4 127.0.0.1\r\nm=audio 70000 RTP/AVP 0\r\n", "out of range"),
        ("m=audio ²000 RTP/AVP 0\r\n", "invalid"),
        ("c=IN IP4 carrier.example\r\nm=audio 4000 RTP/AVP 0\r\n", "IP literal"),
        ("c=IN IP6 fe80::1%eth0\r\nm=audio 4000 RTP/AVP 0\r\n", "IP literal"),
    ],
)
def test_sdp_numbers_and_addresses_are_checked(media: str, problem: str) -> None:
    head = SDP_HEAD if "c=" not in media else SDP_HEAD.replace("c=IN IP4 127.0.0.1\r\n", "")
    with pytest.raises(SipParseError, match=problem):
        parse_sdp(head + media)


def test_payload_types_beyond_seven_bits_are_skipped() -> None:
    media = parse_sdp(SDP_HEAD + "m=audio 4000 RTP/AVP 300 ² 8\r\n")
    assert media.payload_types == (8,) and media.codec is not None and media.codec.name == "PCMA"


def test_targets_accept_the_seeds() -> None:
    for name, target in TARGETS.items():
        seeds = sorted((FUZZ / "seeds" / name).iterdir())
        assert seeds
        for seed in seeds:
            target(seed.read_bytes())


@pytest.mark.parametrize("target", ["sip", "sdp"])
def test_bounded_fuzz_round_finds_nothing(target: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(FUZZ / "run.py"), target, "-runs=4000", "-print_final_stats=1"],
        cwd=tmp_path,  # crash artifacts, if any, land here
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 4000 runs" in result.stderr
    assert not list(tmp_path.glob("crash-*"))
