"""Provider wire shapes and their validation rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from shared.contracts.hostnames import HOSTNAME_PATTERN, MAX_LENGTH, hostname_problem
from shared.contracts.nulls import JsonInt, NullHeaders, NullText
from shared.sip.headers import (
    HEADER_NAME_SCHEMA,
    HEADER_VALUE_SCHEMA,
    header_name_problem,
    header_value_problem,
)

MAX_TEXT = 255
MAX_DETAIL = 4096
MAX_TECH_HEADERS = 32

HealthStatus = Literal["unknown", "healthy", "unhealthy"]
# "" lets RFC 3263 choose (NAPTR/SRV); the others force one transport.
Transport = Literal["", "udp", "tcp", "tls"]
RegistrationStatus = Literal["unregistered", "registering", "registered", "failed"]
REGISTER_EXPIRES_MIN = 60
REGISTER_EXPIRES_MAX = 86400
REGISTER_EXPIRES_DEFAULT = 3600
MAX_CREDENTIAL = 255


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _tech_affix(value: str) -> str:
    if len(value) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    # It becomes part of a SIP user part: visible ASCII only (escaped where SIP needs it).
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in value):
        raise ValueError("must be visible ASCII: no whitespace or control characters")
    return value


# What the API documents say of each field: the same rules as the validators here.
NO_NUL: dict[str, Any] = {"not": {"type": "string", "pattern": "\\x00"}}
HOSTNAME_SCHEMA: dict[str, Any] = {
    "pattern": HOSTNAME_PATTERN,
    "maxLength": MAX_LENGTH,
    "not": {"type": "string", "pattern": "\\n"},
}
AFFIX_SCHEMA: dict[str, Any] = {
    "maxLength": MAX_TEXT,
    "not": {"type": "string", "pattern": "[^!-~]"},
}
CREDENTIAL_SCHEMA: dict[str, Any] = {
    "maxLength": MAX_CREDENTIAL,
    "not": {"type": "string", "pattern": '[\\x00-\\x1f\\x7f"\\\\]'},
}
PASSWORD_SCHEMA: dict[str, Any] = {"writeOnly": True, "format": "password", **CREDENTIAL_SCHEMA}
TECH_HEADERS_SCHEMA: dict[str, Any] = {
    "maxProperties": MAX_TECH_HEADERS,
    "propertyNames": HEADER_NAME_SCHEMA,
    "additionalProperties": HEADER_VALUE_SCHEMA,
}


def _tech_headers(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_TECH_HEADERS:
        raise ValueError(f"at most {MAX_TECH_HEADERS} headers")
    for name, header_value in value.items():
        problem = header_name_problem(name) or header_value_problem(header_value)
        if problem:
            raise ValueError(f"{name!r}: {problem}")
    return value


def _credential_text(value: str) -> str:
    # Digest puts these inside quoted-strings of a SIP header: no control characters (CR/LF
    # injection), no quote or backslash (they would need escaping carriers get wrong).
    if len(value) > MAX_CREDENTIAL:
        raise ValueError(f"must be at most {MAX_CREDENTIAL} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 or ch in '"\\' for ch in value):
        raise ValueError("must not contain control characters, quotes or backslashes")
    return value


def credentials_problem(
    auth_username: str, has_password: bool, register: bool, password_given: bool
) -> tuple[str, str] | None:
    """(field, message) when a provider's credential fields do not fit together."""
    if has_password and not auth_username:
        field = "auth_password" if password_given else "auth_username"
        return field, "a password needs an auth_username"
    if register and not (auth_username and has_password):
        return "register", "registration needs auth_username and auth_password"
    return None


class _ProviderRules(BaseModel):
    """Field rules shared by create and update; read-only fields are ignored (extra=ignore)."""

    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True)

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

    @field_validator("auth_username", check_fields=False)
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        return _credential_text(value) if value is not None else None

    # Fields are validated in declaration order, so these see auth_username (given or its
    # default) in info.data. On an update an absent field is None: the stored value decides,
    # and provider-manager checks the merged record again with credentials_problem().
    @field_validator("auth_password", check_fields=False)
    @classmethod
    def _password(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        _credential_text(value.get_secret_value())
        if value.get_secret_value() and info.data.get("auth_username") == "":
            raise ValueError("a password needs an auth_username")
        return value


def _registrable(value: bool | None, info: ValidationInfo, stored_may_decide: bool) -> bool | None:
    if not value:
        return value
    username, password = info.data.get("auth_username"), info.data.get("auth_password")
    missing_password = (password is None and not stored_may_decide) or (
        password is not None and not password.get_secret_value()
    )
    if username == "" or (username is None and not stored_may_decide) or missing_password:
        raise ValueError("registration needs auth_username and auth_password")
    return value


def _credentials_fit(schema: dict[str, Any]) -> None:
    """Documents the rules between the credential fields of a create."""
    filled = {"type": "string", "minLength": 1}
    schema["allOf"] = [
        {
            "if": {"properties": {"auth_password": filled}, "required": ["auth_password"]},
            "then": {"required": ["auth_username"], "properties": {"auth_username": filled}},
        },
        {
            "if": {"properties": {"register": {"const": True}}, "required": ["register"]},
            "then": {
                "required": ["auth_username", "auth_password"],
                "properties": {"auth_username": filled, "auth_password": filled},
            },
        },
    ]


class ProviderCreate(_ProviderRules):
    """Body of POST /providers."""

    model_config = ConfigDict(
        extra="ignore", strict=True, populate_by_name=True, json_schema_extra=_credentials_fit
    )

    type: Literal["sip"] = Field(description="Protocol type; only `sip`.")
    hostname: str = Field(
        description="SIP server: DNS name or IP literal, optional :port",
        examples=["sip.telnyx.com"],
        json_schema_extra=HOSTNAME_SCHEMA,
    )
    name: NullText = Field(default="", max_length=MAX_TEXT, json_schema_extra=NO_NUL)
    detail: NullText = Field(default="", max_length=MAX_DETAIL, json_schema_extra=NO_NUL)
    tech_prefix: NullText = Field(
        default="", description="Prepended to the dialed number", json_schema_extra=AFFIX_SCHEMA
    )
    tech_postfix: NullText = Field(
        default="", description="Appended to the dialed number", json_schema_extra=AFFIX_SCHEMA
    )
    tech_headers: NullHeaders = Field(
        default_factory=dict,
        description="Custom SIP headers sent with every call: RFC 3261 token names, not "
        "ones the platform sets itself (Via, From, To, Call-ID, CSeq, Contact, Max-Forwards, "
        "Route, Record-Route, Privacy, P-Asserted-Identity, Content-*, compact forms), values "
        "without CR, LF or NUL",
        json_schema_extra=TECH_HEADERS_SCHEMA,
    )
    transport: Transport = Field(
        default="", description="`udp`, `tcp` or `tls`; empty: chosen by RFC 3263 (DNS)"
    )
    auth_username: NullText = Field(
        default="",
        description="Digest user name for the carrier's 401/407 challenges",
        json_schema_extra=CREDENTIAL_SCHEMA,
    )
    auth_password: SecretStr | None = Field(
        default=None,
        description="Digest password; write-only (never returned), stored encrypted",
        json_schema_extra=PASSWORD_SCHEMA,
    )
    # `register` is also a class attribute of every pydantic model (ABC.register): the
    # Python name differs, the wire name does not.
    register_: bool = Field(
        default=False,
        alias="register",
        description="Keep a SIP registration at the carrier (needs credentials)",
    )
    register_expires: JsonInt = Field(
        default=REGISTER_EXPIRES_DEFAULT,
        ge=REGISTER_EXPIRES_MIN,
        le=REGISTER_EXPIRES_MAX,
        description="Registration lifetime asked for, seconds (the registrar may grant less)",
    )

    @field_validator("register_")
    @classmethod
    def _register(cls, value: bool, info: ValidationInfo) -> bool | None:
        return _registrable(value, info, stored_may_decide=False)

    def password(self) -> str | None:
        return self.auth_password.get_secret_value() if self.auth_password else None


class ProviderUpdate(_ProviderRules):
    """Body of PUT /providers/{id}: fields given replace the stored ones, absent ones stay."""

    type: Literal["sip"] | None = None
    hostname: str | None = Field(default=None, json_schema_extra=HOSTNAME_SCHEMA)
    name: str | None = Field(default=None, max_length=MAX_TEXT, json_schema_extra=NO_NUL)
    detail: str | None = Field(default=None, max_length=MAX_DETAIL, json_schema_extra=NO_NUL)
    tech_prefix: str | None = Field(default=None, json_schema_extra=AFFIX_SCHEMA)
    tech_postfix: str | None = Field(default=None, json_schema_extra=AFFIX_SCHEMA)
    tech_headers: dict[str, str] | None = Field(default=None, json_schema_extra=TECH_HEADERS_SCHEMA)
    transport: Transport | None = None
    auth_username: str | None = Field(default=None, json_schema_extra=CREDENTIAL_SCHEMA)
    auth_password: SecretStr | None = Field(
        default=None,
        description="Absent: the stored password stays; empty string: it is removed",
        json_schema_extra=PASSWORD_SCHEMA,
    )
    register_: bool | None = Field(default=None, alias="register")
    register_expires: (
        Annotated[JsonInt, Field(ge=REGISTER_EXPIRES_MIN, le=REGISTER_EXPIRES_MAX)] | None
    ) = None

    @field_validator("register_")
    @classmethod
    def _register(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        return _registrable(value, info, stored_may_decide=True)

    def password(self) -> str | None:
        """The new password ("" removes it), None when the stored one stays."""
        return self.auth_password.get_secret_value() if self.auth_password is not None else None

    def changes(self) -> dict[str, Any]:
        """Given fields except the password (see password())."""
        return {
            k: v
            for k, v in self.model_dump(by_alias=True, exclude={"auth_password"}).items()
            if v is not None
        }


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
    transport: Transport = ""
    auth_username: str = ""
    auth_password_set: bool = Field(
        default=False, description="Whether a password is stored (it is never returned)"
    )
    register_: bool = Field(default=False, alias="register")
    register_expires: int = REGISTER_EXPIRES_DEFAULT
    registration_status: RegistrationStatus = "unregistered"
    registration_reason: str = Field(
        default="", description="Why the last registration attempt failed, or its last answer"
    )
    registration_changed_at: str | None = Field(
        default=None, description="When registration_status last changed"
    )
    tm_create: str
    tm_update: str
    tm_delete: str


class ProviderCredentials(BaseModel):
    """Internal reply of GET /v1/providers/{id}/credentials (call-manager and the registrar
    owner only; never exposed by the gateway, never in an event)."""

    provider_id: str
    auth_username: str
    auth_password: SecretStr
    tm_update: str


class ProviderList(BaseModel):
    result: list[Provider]
    next_page_token: str


class RegistrationReport(BaseModel):
    """What the registration owner (health-checker) saw at a provider's registrar."""

    model_config = ConfigDict(extra="ignore", strict=True)

    provider_id: str
    hostname: str = Field(description="The registrar it was about: ignored once it changed")
    status: RegistrationStatus
    reason: str = Field(default="", max_length=MAX_TEXT)


class RegistrationReportBatch(BaseModel):
    """Body of POST /v1/providers/registrations (internal, health-checker only)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    results: list[RegistrationReport] = Field(max_length=1000)
