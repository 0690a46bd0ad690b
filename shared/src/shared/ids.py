"""Resource ids: UUIDs in their one canonical spelling.

The API documents ids as `format: uuid` with UUID_PATTERN; the parsers here accept exactly
that (hyphenated, either case) and return the lower-case form, so one resource never has two
spellings and the document never promises more or less than the server takes.
"""

from __future__ import annotations

import os
import re
from typing import Any

NIL_UUID = "00000000-0000-0000-0000-000000000000"
UUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_UUID = re.compile(UUID_PATTERN)
# An id field in the API documents.
UUID_SCHEMA: dict[str, Any] = {"format": "uuid", "pattern": UUID_PATTERN}


def canonical_uuid(value: str) -> str:
    """The lower-case hyphenated form; ValueError("must be a UUID") for anything else."""
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise ValueError("must be a UUID")
    # The pattern admits only the hyphenated form, so case is all that can differ.
    return value.lower()


def is_uuid(value: str) -> bool:
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


class _RandomBytes:
    """os.urandom drawn 4 KiB at a time and handed out once each: ids stay unpredictable
    (some become resource ids), without a getrandom() system call per id, which was 4% of
    the gateway's CPU per request (a request id and a message id each)."""

    _CHUNK = 4096

    def __init__(self) -> None:
        self._buffer = b""
        self._offset = 0
        # A forked child must not hand out the bytes its parent hands out too.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._buffer, self._offset = b"", 0

    def take(self, size: int) -> bytes:
        if self._offset + size > len(self._buffer):
            self._buffer, self._offset = os.urandom(self._CHUNK), 0
        start = self._offset
        self._offset = start + size
        return self._buffer[start : self._offset]


_RANDOM = _RandomBytes()


def random_uuid_hex() -> str:
    """A random (version 4) UUID as 32 hex digits, like uuid.uuid4().hex."""
    n = int.from_bytes(_RANDOM.take(16))
    # RFC 9562 section 5.4: version 4 in bits 76-79, variant 0b10 in bits 62-63.
    n = (n & ~(0xF << 76) & ~(0x3 << 62)) | (0x4 << 76) | (0x2 << 62)
    return f"{n:032x}"


def random_uuid() -> str:
    """A random (version 4) UUID in the canonical hyphenated form."""
    h = random_uuid_hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
