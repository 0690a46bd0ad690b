"""Verified caller IDs: the sources a customer's POST /calls may present (tel or sip).

A pattern is one of
- `+14155551234`: that E.164 number;
- `+1415555*`: every number starting with `+1415555` (a block the customer owns);
- `alice@pbx.example.com`: that sip address (host compared case-insensitively);
- `*@pbx.example.com`: any user at that host.
"""

from __future__ import annotations

import re
import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.contracts.calls import sip_target_problem

MAX_PATTERN = 255
MAX_PER_CUSTOMER = 1000
_TEL_PATTERN = re.compile(r"^\+[0-9]{1,15}\*?$")


def caller_id_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not a caller-ID pattern, or None when it is."""
    if pattern.startswith("+"):
        if not _TEL_PATTERN.match(pattern):
            return "a number pattern is + and 1 to 15 digits, optionally ending in *"
        if not pattern.endswith("*") and len(pattern) < 8:
            return "a number is + and 7 to 15 digits (E.164)"
        return None
    if "@" in pattern:
        user, _, host = pattern.partition("@")
        problem = sip_target_problem(("x" if user == "*" else user) + "@" + host)
        return f"a sip pattern is user@host or *@host: {problem}" if problem else None
    return "must be a number (+14155551234), a number prefix (+1415555*), user@host or *@host"


def caller_id_matches(pattern: str, source_type: str, target: str) -> bool:
    if pattern.startswith("+"):
        if source_type != "tel":
            return False
        return target.startswith(pattern[:-1]) if pattern.endswith("*") else target == pattern
    if source_type != "sip":
        return False
    user, _, host = pattern.partition("@")
    their_user, _, their_host = target.partition("@")
    if their_host.lower() != host.lower():
        return False
    return user == "*" or their_user == user


class CallerIdCreate(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    customer_id: str = Field(description="The customer allowed to present this caller ID")
    pattern: str = Field(
        max_length=MAX_PATTERN,
        description="+14155551234, a number prefix +1415555*, alice@host or *@host",
    )
    name: str = Field(default="", max_length=255, description="A note: whose line, why")

    @field_validator("customer_id")
    @classmethod
    def _customer(cls, value: str) -> str:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError("must be a UUID") from None

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        problem = caller_id_pattern_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("must not contain control characters")
        return value


class CallerId(BaseModel):
    id: str
    customer_id: str
    pattern: str
    name: str
    tm_create: str


class CallerIdList(BaseModel):
    result: list[CallerId]
