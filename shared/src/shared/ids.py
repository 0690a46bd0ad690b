"""Resource ids: UUIDs in their one canonical spelling.

The API documents ids as `format: uuid` with UUID_PATTERN; the parsers here accept exactly
that (hyphenated, either case) and return the lower-case form, so one resource never has two
spellings and the document never promises more or less than the server takes.
"""

from __future__ import annotations

import re
import uuid
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
    return str(uuid.UUID(value))


def is_uuid(value: str) -> bool:
    return isinstance(value, str) and _UUID.fullmatch(value) is not None
