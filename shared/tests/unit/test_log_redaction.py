"""The redaction processor: secrets never reach a log line, by key name or by shape."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import structlog
from shared.logging import (
    REDACTED,
    bind_request_id,
    configure_logging,
    current_request_id,
    get_logger,
    redact_secrets,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def _redact(**event: Any) -> dict[str, Any]:
    return dict(redact_secrets(None, "info", {"event": "e", **event}))


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "admin_password",
        "passwd",
        "pwd",
        "secret",
        "jwt_secret",
        "api_key",
        "apiKey",
        "x-api-key",
        "token",
        "access_token",
        "Authorization",
        "accesskey",
        "access_key",
        "credentials",
        "cookie",
        "Set-Cookie",
        "private_key",
    ],
)
def test_secret_keys_are_redacted(key: str) -> None:
    assert _redact(**{key: "hunter2"})[key] == REDACTED


def test_non_secret_values_are_kept() -> None:
    out = _redact(username="admin", status=200, path="/v1.0/providers", ms=1.5, items=[1, 2])
    assert out == {
        "event": "e",
        "username": "admin",
        "status": 200,
        "path": "/v1.0/providers",
        "ms": 1.5,
        "items": [1, 2],
    }


def test_nested_structures() -> None:
    out = _redact(
        request={
            "headers": {"Authorization": "Bearer abc", "Accept": "*/*"},
            "body": {"username": "u", "password": "p", "credentials": {"api_key": "k"}},
            "list": [{"token": "t"}, ("x", {"secret": "s"})],
        }
    )
    request = out["request"]
    assert request["headers"] == {"Authorization": REDACTED, "Accept": "*/*"}
    assert request["body"] == {"username": "u", "password": REDACTED, "credentials": REDACTED}
    assert request["list"][0] == {"token": REDACTED}
    assert request["list"][1][1] == {"secret": REDACTED}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        (f"token was {JWT} ok", JWT),
        (f"{JWT}", JWT),
        ("/v1.0/providers?token=abc123&page_size=1", "abc123"),
        ("/v1.0/providers?page_size=1&accesskey=k3y", "k3y"),
        ("key vbk_AbCdEf0123456789-_xyz given", "vbk_AbCdEf0123456789-_xyz"),
        ("connect to postgresql://app:s3cr3t@db:5432/voip failed", "s3cr3t"),
        ("amqp://guest:gu3st@127.0.0.1:5672/", "gu3st"),
    ],
)
def test_secret_shapes_in_free_text(text: str, secret: str) -> None:
    out = _redact(message=text, nested={"deep": [text]})
    assert secret not in json.dumps(out)
    assert REDACTED in out["message"]
    # The event text itself is scanned too (its key is not a secret name).
    assert secret not in redact_secrets(None, "info", {"event": text})["event"]


def test_event_key_is_never_blanked() -> None:
    out = redact_secrets(None, "info", {"event": "token_refreshed"})
    assert out["event"] == "token_refreshed"


def test_rendered_lines_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    """Through the configured pipeline: structlog calls, stdlib records, and tracebacks."""
    configure_logging("unit", "DEBUG")
    try:
        log = get_logger("unit")
        log.info("login", password="pw-123456", authorization=f"Bearer {JWT}")
        try:
            raise ValueError(f"could not verify {JWT} for postgresql://u:dbpass@h/db")
        except ValueError:
            log.exception("crashed")
            logging.getLogger("aiohttp.server").exception("Error handling ?token=qtok1")
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    finally:
        # Reconfigure against the stdout pytest restores, not this test's closing buffer.
        with capsys.disabled():
            configure_logging("tests", "WARNING")
    text = json.dumps(lines)
    for secret in ("pw-123456", JWT, "dbpass", "qtok1"):
        assert secret not in text
    assert [line["event"] for line in lines][:2] == ["login", "crashed"]
    assert "ValueError" in lines[1]["exception"]
    # stdlib records carry a formatted traceback, not a repr of the exc_info tuple.
    assert "Traceback" in lines[2]["exception"]
    assert "exc_info" not in lines[2]


def test_request_id_binding() -> None:
    structlog.contextvars.clear_contextvars()
    assert current_request_id() is None
    given = bind_request_id("abc-123")
    assert given == "abc-123" == current_request_id()
    fresh = bind_request_id(None)
    assert fresh != "abc-123" and len(fresh) == 36
    structlog.contextvars.clear_contextvars()
