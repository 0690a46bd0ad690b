"""Provider wire shapes and their validation rules."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.contracts.hostnames import hostname_problem
from shared.contracts.nulls import NullHeaders, NullText
from shared.sip.headers import header_name_problem, header_value_problem

MAX_TEXT = 255
MAX_DETAIL = 4096
MAX_TECH_HEADERS = 32

HealthStatus = Literal["unknown", "healthy", "unhealthy"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _tech_affix(value: str) -> str:
    if len(value) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain whitespace or control characters")
    return value


def _tech_headers(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_TECH_HEADERS:
        raise ValueError(f"at most {MAX_TECH_HEADERS} headers")
    for name, header_value in value.items():
        problem = header_name_problem(name) or header_value_problem(header_value)
        if problem:
            raise ValueError(f"{name!r}: {problem}")
    return value


class _ProviderRules(BaseModel):
    """Field rules shared by create and update; read-only fields are ignored (extra=ignore)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    @field_validator("hostname", check_fields=False)
    @classmethod
    def _hostname(cls, value: str | None) -> str | None:
        if value is not None and (problem := hostname_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("name", "detail", check_fields=False)
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
        return _no_nul(value) if value is not None else None

    @field_validator("tech_prefix", "tech_postfix", check_fields=False)
    @classmethod
    def _affix(cls, value: str | None) -> str | None:
        return _tech_affix(value) if value is not None else None

    @field_validator("tech_headers", check_fields=False)
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return _tech_headers(value) if value is not None else None


class ProviderCreate(_ProviderRules):
    """Body of POST /providers."""

    type: Literal["sip"] = Field(description="Protocol type; only `sip`.")
    hostname: str = Field(
        description="SIP server: DNS name or IP literal, optional :port",
        examples=["sip.telnyx.com"],
    )
    name: NullText = Field(default="", max_length=MAX_TEXT)
    detail: NullText = Field(default="", max_length=MAX_DETAIL)
    tech_prefix: NullText = Field(default="", description="Prepended to the dialed number")
    tech_postfix: NullText = Field(default="", description="Appended to the dialed number")
    tech_headers: NullHeaders = Field(
        default_factory=dict, description="Custom SIP headers sent with every call"
    )


class ProviderUpdate(_ProviderRules):
    """Body of PUT /providers/{id}: fields given replace the stored ones, absent ones stay."""

    type: Literal["sip"] | None = None
    hostname: str | None = None
    name: str | None = Field(default=None, max_length=MAX_TEXT)
    detail: str | None = Field(default=None, max_length=MAX_DETAIL)
    tech_prefix: str | None = None
    tech_postfix: str | None = None
    tech_headers: dict[str, str] | None = None

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Provider(BaseModel):
    """A provider as the API returns it (the seeds' shape)."""

    id: str
    type: Literal["sip"]
    hostname: str
    tech_prefix: str
    tech_postfix: str
    tech_headers: dict[str, str]
    name: str
    detail: str
    metadata: dict[str, Any]
    health_status: HealthStatus
    health_checked_at: str | None
    tm_create: str
    tm_update: str
    tm_delete: str


class ProviderList(BaseModel):
    result: list[Provider]
    next_page_token: str
