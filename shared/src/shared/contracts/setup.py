"""Wire shapes of one-step carrier setup (POST /providers/setup) and of its journal records.

The carrier API key is a `SecretStr`: its repr and str are masked, so a logged or printed
request never shows it. Validation messages never quote the key either.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from shared.contracts.nulls import NullText
from shared.contracts.providers import MAX_DETAIL, MAX_TEXT, NO_NUL

SUPPORTED_CARRIERS: tuple[str, ...] = ("telnyx",)
ASCII_SPACE = " \t\n\r\f\v"
MAX_API_KEY = 512


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class SetupCredentials(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    api_key: SecretStr = Field(
        description="The carrier's API key. Used for this request only: never stored, "
        "logged or returned.",
        json_schema_extra={
            "writeOnly": True,
            "pattern": f"^[!-~]{{1,{MAX_API_KEY}}}$",
            "not": {"type": "string", "pattern": "\\n"},
        },
    )

    @field_validator("api_key")
    @classmethod
    def _api_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if not key:
            raise ValueError("must not be empty")
        if len(key) > MAX_API_KEY:
            raise ValueError(f"must be at most {MAX_API_KEY} characters")
        # It goes into an HTTP header: printable ASCII without spaces only.
        if any(not 0x21 <= ord(ch) <= 0x7E for ch in key):
            raise ValueError("must be printable ASCII without spaces")
        return value


class ProviderSetupRequest(BaseModel):
    """Body of POST /providers/setup."""

    model_config = ConfigDict(extra="ignore", strict=True)

    carrier: str = Field(
        description="The carrier whose API creates the SIP trunk.",
        json_schema_extra={"enum": list(SUPPORTED_CARRIERS)},
    )
    name: str = Field(
        max_length=MAX_TEXT,
        description="Name of the provider to create (not blank)",
        json_schema_extra={"pattern": "[^ \\t\\n\\r\\f\\v]", **NO_NUL},
    )
    detail: NullText = Field(default="", max_length=MAX_DETAIL, json_schema_extra=NO_NUL)
    credentials: SetupCredentials

    @field_validator("carrier")
    @classmethod
    def _carrier(cls, value: str) -> str:
        carrier = value
        if not carrier:
            raise ValueError("must not be empty")
        if carrier not in SUPPORTED_CARRIERS:
            # Never echo more than a short, printable excerpt of what the caller sent.
            shown = "".join(ch for ch in value[:32] if ch.isprintable())
            supported = ", ".join(SUPPORTED_CARRIERS)
            raise ValueError(f"unsupported carrier {shown!r}; supported carriers: {supported}")
        return carrier

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # ASCII white space only: the same set the document's pattern names in every dialect.
        name = _no_nul(value).strip(ASCII_SPACE)
        if not name:
            raise ValueError("must not be empty")
        return name

    @field_validator("detail")
    @classmethod
    def _detail(cls, value: str) -> str:
        return _no_nul(value)


class SetupResources(BaseModel):
    """Carrier resource ids a setup created (the provider's metadata once it is done)."""

    telnyx_profile_id: str | None = None
    telnyx_connection_id: str | None = None
    telnyx_ip_ids: list[str] = Field(default_factory=list)


class ProviderSetupRecord(BaseModel):
    """One journal row of provider-manager's carrier setups (never holds the key)."""

    id: str
    provider_id: str
    carrier: str
    name: str
    state: str = Field(
        description="pending, ovp_created, connection_created, ips_created, done, "
        "rolled_back or cleanup_pending"
    )
    in_progress: bool = Field(description="A live process is running this setup right now")
    steps: list[dict[str, Any]]
    resources: SetupResources
    errors: list[dict[str, Any]]
    cleanup: list[dict[str, Any]]
    tm_create: str
    tm_update: str


class ProviderSetupList(BaseModel):
    result: list[ProviderSetupRecord]
    next_page_token: str
