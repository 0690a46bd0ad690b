"""ProviderCall, Call and Groupcall wire shapes and the rules a request to place calls obeys.

The gateway validates with these models to fail fast and to document the API; call-manager
validates again with the same models because it is the authority (other platform services
reach it over RPC without the gateway).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.contracts.hostnames import HOST_PATTERN, hostname_problem
from shared.contracts.nulls import AlsoNull, JsonInt, NullText, null_as
from shared.ids import NIL_UUID, UUID_PATTERN, UUID_SCHEMA, canonical_uuid, is_uuid

# The identity of a ProviderCall created without a source (RFC 3323's anonymous URI): what
# its calls record as their source and send in From.
ANONYMOUS_SOURCE: dict[str, str] = {
    "type": "sip",
    "target": "anonymous@anonymous.invalid",
    "target_name": "Anonymous",
}
MAX_DESTINATIONS = 100
MAX_ACTIONS = 50
MAX_PAUSE_MS = 3_600_000
MAX_NAME = 255

E164 = re.compile(r"^\+[0-9]{7,15}$")
# RFC 3261 user part: unreserved / escaped / user-unreserved; nothing that could end the URI.
_SIP_USER_CHARS = r"[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,128}"
_SIP_USER = re.compile(_SIP_USER_CHARS)
SIP_TARGET_PATTERN = rf"^{_SIP_USER_CHARS}@{HOST_PATTERN}$"
NO_NEWLINE: dict[str, Any] = {"not": {"type": "string", "pattern": "\\n"}}
# What each address type's target must be, for the API documents (the rules are below).
_TARGET_SCHEMAS: dict[str, dict[str, Any]] = {
    "tel": {"pattern": E164.pattern, **NO_NEWLINE},
    "sip": {"pattern": SIP_TARGET_PATTERN, **NO_NEWLINE},
    "agent": {"pattern": UUID_PATTERN},
    "extension": {"pattern": UUID_PATTERN},
}

AddressType = Literal["tel", "sip", "agent", "extension"]
SourceType = Literal["tel", "sip"]
Anonymous = Literal["yes", "no", "auto"]
CallStatus = Literal["dialing", "ringing", "progressing", "terminating", "canceling", "hangup"]
HangupBy = Literal["", "local", "remote"]
HangupReason = Literal["", "normal", "failed", "busy", "cancel", "timeout", "noanswer", "dialout"]
GroupcallStatus = Literal["progressing", "hangingup", "hangup"]
RingMethod = Literal["ring_all", "linear"]


def sip_target_problem(value: str) -> str | None:
    """Why `value` is not a `user@host` SIP target, or None when it is."""
    user, at, host = value.partition("@")
    if not at or not user or not host:
        return "must be user@host"
    if not _SIP_USER.fullmatch(user):
        return "user part holds characters a SIP URI cannot carry"
    problem = hostname_problem(host)
    return f"host {problem}" if problem else None


def _printable(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _target_by_type(schema: dict[str, Any]) -> None:
    """Documents the target rule of each type as one oneOf branch per type."""
    kinds = schema["properties"]["type"]["enum"]
    schema["oneOf"] = [
        {"properties": {"type": {"const": kind}, "target": _TARGET_SCHEMAS[kind]}} for kind in kinds
    ]


class _AddressRules(BaseModel):
    """`{type, target, target_name}` (VoIPbin's address); `type` comes first so the target
    rule can see it."""

    model_config = ConfigDict(extra="ignore", strict=True, json_schema_extra=_target_by_type)

    type: str
    target: str = Field(max_length=MAX_NAME)
    target_name: NullText = Field(
        default="",
        max_length=MAX_NAME,
        json_schema_extra={"not": {"type": "string", "pattern": "[\\x00-\\x1f\\x7f]"}},
    )

    @field_validator("target")
    @classmethod
    def _target(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        problem = target_problem(kind, value) if isinstance(kind, str) else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("target_name")
    @classmethod
    def _name(cls, value: str) -> str:
        # Rendered as a SIP display name: control characters could break the header.
        return _printable(value)


class Address(_AddressRules):
    """A destination: tel and sip become Calls, agent and extension become Groupcalls."""

    type: AddressType


class SourceAddress(_AddressRules):
    """The caller ID: a tel number or a SIP user@host."""

    type: SourceType


def target_problem(kind: str, target: str) -> str | None:
    if kind == "tel":
        return None if E164.fullmatch(target) else "a tel target must be E.164, e.g. +14155551234"
    if kind == "sip":
        return sip_target_problem(target)
    return None if is_uuid(target) else f"an {kind} target must be a UUID"


class PauseOption(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    duration: JsonInt = Field(ge=0, le=MAX_PAUSE_MS, description="Milliseconds")


class PauseAction(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    type: Literal["pause"]
    option: PauseOption


class HangupAction(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    type: Literal["hangup"]
    option: dict[str, Any] = Field(default_factory=dict)


# The discriminator makes an unknown type one error at actions.N naming the allowed types.
Action = Annotated[PauseAction | HangupAction, Field(discriminator="type")]


def _anonymous_needs_tel_source(schema: dict[str, Any]) -> None:
    """Documents the one rule between fields: anonymous=yes needs an E.164 tel source."""
    schema["if"] = {"properties": {"anonymous": {"const": "yes"}}, "required": ["anonymous"]}
    schema["then"] = {
        "required": ["source"],
        "properties": {
            "source": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"const": "tel"}},
            }
        },
    }


class _CallRequest(BaseModel):
    """What a request to place calls says, whoever picks the providers (ProviderCall: one
    forced provider; Call: the dial routes). customer_id is never read from it."""

    model_config = ConfigDict(
        extra="ignore", strict=True, json_schema_extra=_anonymous_needs_tel_source
    )

    flow_id: Annotated[str, null_as(NIL_UUID), AlsoNull()] = Field(
        default=NIL_UUID,
        description='Flow run after answer; nil UUID, "" or null: none',
        json_schema_extra={"pattern": f"^(?:{UUID_PATTERN[1:-1]})?$"},
    )
    actions: list[Action] = Field(
        default_factory=list,
        max_length=MAX_ACTIONS,
        description="Inline actions after answer: pause (option.duration ms) and hangup",
    )
    anonymous: Annotated[Literal["yes", "no", "auto", ""], null_as(""), AlsoNull()] = Field(
        default="auto", description='Anonymous caller ID; "" and null mean auto'
    )
    source: SourceAddress | None = Field(description="Caller ID, sent verbatim (tel or sip)")
    destinations: list[Address] = Field(min_length=1, max_length=MAX_DESTINATIONS)

    @field_validator("flow_id")
    @classmethod
    def _flow(cls, value: str) -> str:
        return _uuid(value) if value else NIL_UUID

    @field_validator("anonymous")
    @classmethod
    def _anonymous(cls, value: str) -> str:
        return value or "auto"

    @field_validator("source")
    @classmethod
    def _anonymous_source(
        cls, value: SourceAddress | None, info: ValidationInfo
    ) -> SourceAddress | None:
        # Never fall back to showing the number: anonymity needs a PAI the carrier can bill.
        if info.data.get("anonymous") == "yes" and not (
            value is not None and value.type == "tel" and E164.fullmatch(value.target)
        ):
            raise ValueError("anonymous=yes needs an E.164 tel source")
        return value


def _uuid(value: str) -> str:
    return canonical_uuid(value)


class ProviderCallCreate(_CallRequest):
    """Body of POST /providercalls. customer_id is never read from it."""

    source: SourceAddress | None = Field(
        default=None,
        validate_default=True,
        description="Caller ID, sent verbatim (tel or sip). Omitted or null: stored as null, "
        'and the calls go out as the anonymous identity `"Anonymous" '
        "<sip:anonymous@anonymous.invalid>` (RFC 3323) without Privacy or P-Asserted-Identity",
    )
    provider_id: str = Field(
        description="The provider every call is forced through", json_schema_extra=UUID_SCHEMA
    )

    @field_validator("provider_id")
    @classmethod
    def _provider(cls, value: str) -> str:
        return _uuid(value)


class CallCreate(_CallRequest):
    """Body of POST /calls: calls of the caller's own customer. Each tel destination tries
    the providers its dial routes give, in order, failing over on the same call; a sip
    destination is dialed directly at its host (no route, no failover)."""

    source: SourceAddress = Field(description="Caller ID, sent verbatim (tel or sip)")


class FailedDestination(BaseModel):
    index: int
    destination: dict[str, Any]
    reason: str


class ProviderCall(BaseModel):
    """A ProviderCall as the API returns it (the seeds' shape, plus failed_destinations)."""

    id: str
    customer_id: str
    provider_id: str
    flow_id: str
    source: dict[str, Any] | None
    destinations: list[dict[str, Any]]
    anonymous: str
    call_ids: list[str]
    groupcall_ids: list[str]
    failed_destinations: list[FailedDestination] = Field(default_factory=list)
    tm_create: str
    tm_update: str
    tm_delete: str | None


class ProviderCallList(BaseModel):
    result: list[ProviderCall]
    next_page_token: str


class CallAttemptTarget(BaseModel):
    """One address of the provider (RFC 3263) that the attempt's INVITE was sent to."""

    address: str = Field(description="ip:port")
    sip_status_code: int = Field(description="Its final response; 0: none came")
    sip_reason: str


class CallAttempt(BaseModel):
    """One INVITE of a call: a call fails over to the next provider with a new attempt."""

    provider_id: str = Field(description="Nil UUID for a sip destination dialed directly")
    route_id: str = Field(description="The dial route that chose the provider; nil UUID: none")
    request_uri: str
    sip_call_id: str = Field(description="The SIP Call-ID of this attempt's INVITE")
    sip_status_code: int = Field(
        description="The final response (200 when answered); 0 while in progress or when none "
        "came (timeout, DNS or transport failure)"
    )
    sip_reason: str = Field(description="Its reason phrase, or why no response came")
    tm_start: str
    tm_end: str | None
    targets: list[CallAttemptTarget] = Field(
        default_factory=list,
        description="Each address tried, in order: a silent or 503 address moves the INVITE "
        "to the provider's next address before the next provider is tried",
    )


class Call(BaseModel):
    id: str
    customer_id: str
    owner_type: str
    owner_id: str
    flow_id: str
    type: str
    master_call_id: str
    groupcall_id: str
    providercall_id: str
    provider_id: str
    source: dict[str, Any]
    destination: dict[str, Any]
    status: CallStatus
    direction: Literal["outgoing", "incoming"]
    anonymous: str
    actions: list[dict[str, Any]]
    metadata: dict[str, Any]
    hangup_by: HangupBy
    hangup_reason: HangupReason
    sip_status_code: int
    tm_ringing: str | None
    tm_progressing: str | None
    tm_hangup: str | None
    tm_create: str
    tm_update: str
    tm_delete: str | None
    attempts: list[CallAttempt] = Field(
        default_factory=list, description="Every INVITE of this call, in order (failover)"
    )


class CallList(BaseModel):
    result: list[Call]
    next_page_token: str


class Groupcall(BaseModel):
    id: str
    customer_id: str
    owner_type: str
    owner_id: str
    status: GroupcallStatus
    flow_id: str
    providercall_id: str
    provider_id: str
    source: dict[str, Any]
    destination: dict[str, Any]
    destinations: list[dict[str, Any]]
    ring_method: RingMethod
    answer_method: str
    anonymous: str
    answer_call_id: str
    call_ids: list[str]
    call_count: int
    dial_index: int
    tm_create: str
    tm_update: str
    tm_delete: str | None


class GroupcallList(BaseModel):
    result: list[Groupcall]
    next_page_token: str


class CallCreateResult(BaseModel):
    """What POST /calls created: a Call per tel/sip destination and a Groupcall per agent or
    extension destination, each in the order of the destinations."""

    calls: list[Call]
    groupcalls: list[Groupcall]
