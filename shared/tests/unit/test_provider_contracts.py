"""Every provider validation rule of issue 2, as the shared contract applies it.

The gateway and provider-manager both call `parse_body` with these models, so a failure here
is one 400 that names the field, whichever side catches it.
"""

from __future__ import annotations

from typing import Any

import pytest
from shared.contracts.providers import MAX_TECH_HEADERS, ProviderCreate, ProviderUpdate
from shared.contracts.validation import parse_body
from shared.errors import AppError, ErrorStatus
from shared.sip.headers import header_name_problem, header_value_problem

BASE: dict[str, Any] = {"type": "sip", "hostname": "sip.telnyx.com"}


def _error(model: type[ProviderCreate | ProviderUpdate], body: Any) -> AppError:
    with pytest.raises(AppError) as caught:
        parse_body(model, body)
    err = caught.value
    assert err.status is ErrorStatus.INVALID_ARGUMENT
    assert err.http_status == 400
    return err


def test_minimal_create_fills_defaults() -> None:
    body = parse_body(ProviderCreate, BASE)
    assert body.model_dump() == {
        "type": "sip",
        "hostname": "sip.telnyx.com",
        "name": "",
        "detail": "",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "transport": "",
        "auth_username": "",
        "auth_password": None,
        "register_": False,
        "register_expires": 3600,
    }


def test_read_only_fields_are_ignored() -> None:
    body = parse_body(
        ProviderCreate,
        {
            **BASE,
            "id": "not-even-a-uuid",
            "metadata": {"telnyx_profile_id": "1"},
            "health_status": "healthy",
            "health_checked_at": "2026-01-01 00:00:00.000000",
            "tm_create": 1,
            "tm_update": None,
            "tm_delete": [],
        },
    )
    assert set(body.model_dump()) == {
        "type",
        "hostname",
        "name",
        "detail",
        "tech_prefix",
        "tech_postfix",
        "tech_headers",
        "transport",
        "auth_username",
        "auth_password",
        "register_",
        "register_expires",
    }
    update = parse_body(ProviderUpdate, {"metadata": {"x": 1}, "health_status": "healthy"})
    assert update.changes() == {}


# (field, bad value, fragment of the message)
BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("type", "SIP", "sip"),
    ("type", "iax2", "sip"),
    ("type", "", "sip"),
    ("type", 1, "sip"),
    ("hostname", "", "empty"),
    ("hostname", 5, "string"),
    ("hostname", ["sip.example.com"], "string"),
    ("hostname", "sip://sip.example.com", "scheme"),
    ("hostname", "sip.example.com/x", "path"),
    ("hostname", "u@sip.example.com", "user"),
    ("hostname", "sip example.com", "whitespace"),
    ("hostname", "sip.example.com:0", "port"),
    ("hostname", "sip.example.com:65536", "port"),
    ("hostname", "h" * 256, "253"),
    ("name", "n" * 256, "255"),
    ("name", 7, "string"),
    ("name", "bad\x00name", "NUL"),
    ("detail", "bad\x00detail", "NUL"),
    ("tech_prefix", "p" * 256, "255"),
    ("tech_prefix", "1 ", "whitespace"),
    ("tech_prefix", "\t1", "whitespace"),
    ("tech_prefix", "1\x01", "control"),
    ("tech_prefix", "1\x7f", "control"),
    ("tech_prefix", 1, "string"),
    ("tech_postfix", "p" * 256, "255"),
    ("tech_postfix", "a\nb", "whitespace"),
    ("tech_postfix", "\u2003", "whitespace"),
    ("tech_postfix", "\x00", "control"),
    ("tech_headers", [], "dictionary"),
    ("tech_headers", "X-A: b", "dictionary"),
    ("tech_headers", {"X-A": 1}, "string"),
    ("tech_headers", {"X-A": None}, "string"),
    ("tech_headers", {"X-A": ["v"]}, "string"),
    ("tech_headers", {"X-A": {"v": "w"}}, "string"),
    ("tech_headers", {"X-A": True}, "string"),
    ("tech_headers", {f"X-H{i}": "v" for i in range(MAX_TECH_HEADERS + 1)}, "32"),
    ("tech_headers", {"": "v"}, "empty"),
    ("tech_headers", {"X A": "v"}, "token"),
    ("tech_headers", {"X-A:": "v"}, "token"),
    ("tech_headers", {"X-A\n": "v"}, "token"),
    ("tech_headers", {"X-A\r\nVia": "v"}, "token"),
    ("tech_headers", {"X-\u00c4": "v"}, "token"),
    ("tech_headers", {"X-A": "a" * 1025}, "1024"),
    ("tech_headers", {"X-A": "a\rb"}, "CR"),
    ("tech_headers", {"X-A": "a\nb"}, "CR"),
    ("tech_headers", {"X-A": "a\r\nVia: evil"}, "CR"),
    ("tech_headers", {"X-A": "a\x00b"}, "NUL"),
]


@pytest.mark.parametrize(("field", "value", "fragment"), BAD_FIELDS)
def test_create_refuses_bad_field(field: str, value: Any, fragment: str) -> None:
    err = _error(ProviderCreate, {**BASE, field: value})
    assert err.details is not None
    assert err.details["field"].split(".")[0] == field
    assert err.message.startswith(f"{field}")
    assert fragment.lower() in err.message.lower(), err.message


@pytest.mark.parametrize(("field", "value", "fragment"), BAD_FIELDS)
def test_update_refuses_bad_field(field: str, value: Any, fragment: str) -> None:
    if field == "hostname" and not isinstance(value, str):
        fragment = "string"
    err = _error(ProviderUpdate, {field: value})
    assert err.details is not None
    assert err.details["field"].split(".")[0] == field
    assert fragment.lower() in err.message.lower(), err.message


@pytest.mark.parametrize("field", ["type", "hostname"])
def test_create_requires(field: str) -> None:
    body = dict(BASE)
    del body[field]
    err = _error(ProviderCreate, body)
    assert err.details == {"field": field}


@pytest.mark.parametrize("body", [[], "x", 1, True, [BASE]])
def test_body_must_be_an_object(body: Any) -> None:
    err = _error(ProviderCreate, body)
    assert err.reason == "INVALID_JSON_BODY"


def test_null_body_is_an_empty_object() -> None:
    assert _error(ProviderCreate, None).details == {"field": "type"}
    assert parse_body(ProviderUpdate, None).changes() == {}


def test_limits_are_inclusive() -> None:
    body = parse_body(
        ProviderCreate,
        {
            **BASE,
            "name": "n" * 255,
            "tech_prefix": "p" * 255,
            "tech_postfix": "q" * 255,
            "tech_headers": {f"X-H{i}": "v" * 1024 for i in range(MAX_TECH_HEADERS)},
        },
    )
    assert len(body.tech_headers) == 32
    assert len(body.name) == 255


def test_accepted_tech_values() -> None:
    body = parse_body(
        ProviderCreate,
        {
            **BASE,
            "tech_prefix": "+1#*",
            "tech_postfix": ";user=phone",
            "tech_headers": {
                "X-Custom-Header": "value with spaces\tand tabs",
                "P-Charge-Info": "<sip:+15551234567@example.com>",
                "x.tok!%*_+`'~": "",
            },
        },
    )
    assert body.tech_headers["X-Custom-Header"] == "value with spaces\tand tabs"


RESERVED = [
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Max-Forwards",
    "Route",
    "Record-Route",
    "Content-Length",
    "Content-Type",
    "Privacy",
    "P-Asserted-Identity",
    # compact forms (RFC 3261 section 7.3.3)
    "v",
    "f",
    "t",
    "i",
    "m",
    "l",
    "c",
]


@pytest.mark.parametrize("name", RESERVED)
@pytest.mark.parametrize("case", [str, str.lower, str.upper, str.swapcase])
def test_reserved_headers_refused_case_insensitively(name: str, case: Any) -> None:
    spelled = case(name)
    err = _error(ProviderCreate, {**BASE, "tech_headers": {spelled: "x"}})
    assert err.details == {"field": "tech_headers"}
    assert "reserved" in err.message
    assert header_name_problem(spelled) is not None


@pytest.mark.parametrize("name", ["Content-Encoding", "content-disposition", "E"])
def test_every_content_header_is_reserved(name: str) -> None:
    # docs/architecture.md, section 5: Content-* describe the body the platform writes.
    assert "reserved" in (header_name_problem(name) or "")


@pytest.mark.parametrize("name", ["X-Foo", "Vias", "Tom", "Call-IDs", "User-Agent", "Subject"])
def test_near_reserved_names_are_fine(name: str) -> None:
    assert header_name_problem(name) is None


def test_header_value_rules() -> None:
    assert header_value_problem("") is None
    assert header_value_problem("a" * 1024) is None
    assert header_value_problem("a" * 1025) is not None
    for bad in ("\r", "\n", "\x00"):
        assert header_value_problem(f"a{bad}b") is not None


def test_update_changes_only_what_was_given() -> None:
    update = parse_body(ProviderUpdate, {"name": "new", "tech_headers": {}, "hostname": None})
    assert update.changes() == {"name": "new", "tech_headers": {}}


def test_null_text_is_empty_on_create_and_kept_on_update() -> None:
    nulls = dict.fromkeys(("name", "detail", "tech_prefix", "tech_postfix", "tech_headers"))
    created = parse_body(ProviderCreate, {"type": "sip", "hostname": "sip.example.com", **nulls})
    assert (created.name, created.detail, created.tech_prefix, created.tech_postfix) == (
        "",
        "",
        "",
        "",
    )
    assert created.tech_headers == {}
    assert parse_body(ProviderUpdate, nulls).changes() == {}
    # null is not a hostname nor a type: those stay required on create.
    assert _error(ProviderCreate, {"type": "sip", "hostname": None}).details == {
        "field": "hostname"
    }
