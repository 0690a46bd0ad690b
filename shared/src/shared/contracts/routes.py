"""Route and dial-route wire shapes and their validation rules.

A route says "calls of `customer_id` to numbers starting with `target` may use `provider_id`,
tried in `priority` order". Dial-route resolution turns a customer and a number into the
ordered provider candidates the call-manager tries one after another.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.contracts.nulls import JsonInt, NullText
from shared.contracts.providers import MAX_DETAIL, MAX_TEXT, NO_NUL, HealthStatus, Transport
from shared.ids import UUID_SCHEMA, canonical_uuid

# `all`, or `+` and 1 to 8 digits: a country code (`+1`, `+82`) or a longer prefix (`+1212`).
TARGET_ALL = "all"
TARGET_RE = re.compile(r"^(all|\+[0-9]{1,8})$")
TARGET_SCHEMA: dict[str, Any] = {
    "pattern": TARGET_RE.pattern,
    "not": {"type": "string", "pattern": "\\n"},
}
MAX_PREFIX_DIGITS = 8
# An E.164 number as dial-route resolution accepts it.
NUMBER_RE = re.compile(r"^\+[0-9]{7,15}$")
# Priorities are stored in a PostgreSQL integer.
PRIORITY_MIN = -(2**31)
PRIORITY_MAX = 2**31 - 1

DialrouteGroup = Literal["customer_prefix", "customer_all", "default_prefix", "default_all"]


def target_problem(value: str) -> str | None:
    if TARGET_RE.fullmatch(value):
        return None
    return "must be `all` or `+` followed by 1 to 8 digits (e.g. +1, +44, +1212)"


def _target(value: str | None) -> str | None:
    if value is not None and (problem := target_problem(value)):
        raise ValueError(problem)
    return value


def _no_nul(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class _RouteRules(BaseModel):
    """Field rules shared by create and update; read-only fields are ignored (extra=ignore)."""

    # strict: "1" or true is not a priority, a number is not a UUID string.
    model_config = ConfigDict(extra="ignore", strict=True)

    @field_validator("customer_id", "provider_id", check_fields=False)
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        return canonical_uuid(value) if value is not None else None

    @field_validator("target", check_fields=False)
    @classmethod
    def _route_target(cls, value: str | None) -> str | None:
        return _target(value)

    @field_validator("name", "detail", check_fields=False)
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return _no_nul(value)


class RouteCreate(_RouteRules):
    """Body of POST /routes."""

    customer_id: str | None = Field(
        default=None,
        description="Owner of the route; omitted means the system default routes' customer",
        json_schema_extra=UUID_SCHEMA,
    )
    provider_id: str = Field(
        description="An existing, undeleted provider (404 PROVIDER_NOT_FOUND otherwise)",
        json_schema_extra=UUID_SCHEMA,
    )
    target: str = Field(
        description="`all`, or `+` and 1 to 8 digits: country code or longer prefix",
        examples=["+1", "+1212", "all"],
        json_schema_extra=TARGET_SCHEMA,
    )
    priority: JsonInt = Field(
        default=0, ge=PRIORITY_MIN, le=PRIORITY_MAX, description="Lower is tried first"
    )
    name: NullText = Field(default="", max_length=MAX_TEXT, json_schema_extra=NO_NUL)
    detail: NullText = Field(default="", max_length=MAX_DETAIL, json_schema_extra=NO_NUL)


class RouteUpdate(_RouteRules):
    """Body of PUT /routes/{id}: fields given replace the stored ones, absent ones stay.

    The owner (`customer_id`) is fixed at creation and ignored here, like other read-only
    fields, so a client may PUT back what it read.
    """

    provider_id: str | None = Field(default=None, json_schema_extra=UUID_SCHEMA)
    target: str | None = Field(default=None, json_schema_extra=TARGET_SCHEMA)
    priority: Annotated[JsonInt, Field(ge=PRIORITY_MIN, le=PRIORITY_MAX)] | None = None
    name: str | None = Field(default=None, max_length=MAX_TEXT, json_schema_extra=NO_NUL)
    detail: str | None = Field(default=None, max_length=MAX_DETAIL, json_schema_extra=NO_NUL)

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Route(BaseModel):
    """A route as the API returns it; `tm_delete` is 9999-01-01 00:00:00.000000 while active."""

    id: str
    customer_id: str
    name: str
    detail: str
    provider_id: str
    priority: int
    target: str
    tm_create: str
    tm_update: str
    tm_delete: str


class RouteList(BaseModel):
    result: list[Route]
    next_page_token: str


class DialrouteQuery(BaseModel):
    """What GET /v1/dialroutes resolves: query string or JSON body fields."""

    model_config = ConfigDict(extra="ignore", strict=True)

    customer_id: str = Field(description="The calling customer")
    target: str = Field(description="Destination number, E.164 (+ and 7 to 15 digits)")

    @field_validator("customer_id")
    @classmethod
    def _customer(cls, value: str) -> str:
        return canonical_uuid(value)

    @field_validator("target")
    @classmethod
    def _number(cls, value: str) -> str:
        if not NUMBER_RE.fullmatch(value):
            raise ValueError("must be an E.164 number: + followed by 7 to 15 digits")
        return value


class DialrouteProvider(BaseModel):
    """What the call-manager needs of a provider to dial through it."""

    id: str
    type: str
    name: str
    hostname: str
    tech_prefix: str
    tech_postfix: str
    tech_headers: dict[str, str]
    health_status: HealthStatus
    health_checked_at: str | None
    transport: Transport = ""
    auth_username: str = ""
    # The password itself is asked for separately (GET /v1/providers/{id}/credentials) and
    # only when a carrier challenges.
    auth_password_set: bool = False


class Dialroute(BaseModel):
    """One candidate: try `provider` for this call, in list order."""

    route_id: str
    route_target: str = Field(description="The route's target that matched (`all` or prefix)")
    priority: int
    group: DialrouteGroup = Field(description="Which of the four route groups it came from")
    provider_id: str
    provider: DialrouteProvider


class DialrouteList(BaseModel):
    customer_id: str
    target: str
    result: list[Dialroute]
