"""The carrier API key is never stored, logged, put in an event or returned: proved by running
setups with a recognisable key (success, carrier failure with rollback, rejected key, bad
input) at DEBUG level, then searching the logs, every database table, the events, the
replies and what was sent to the carrier."""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from collections.abc import Iterator

import aiohttp
import pytest
import structlog
from shared.contracts.setup import ProviderSetupRequest
from shared.logging import configure_logging, redact_secrets

from tests.support.carrier_setup import SetupDriver, setup_body
from tests.support.events import EventCollector
from tests.support.telnyx_fake import FakeTelnyx


@pytest.fixture
def debug_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Every log line of this process (structlog and stdlib, DEBUG and up) into a buffer."""
    saved_structlog = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stdout", buffer)
    configure_logging("tests", "DEBUG")
    try:
        yield buffer
    finally:
        structlog.configure(**saved_structlog)
        root.handlers, root.level = saved_handlers, saved_level


async def test_the_api_key_appears_in_no_log_table_event_or_reply(
    fake: FakeTelnyx,
    driver: SetupDriver,
    setup_http: aiohttp.ClientSession,
    setup_events: EventCollector,
    debug_log: io.StringIO,
    capfd: pytest.CaptureFixture[str],
) -> None:
    key = f"KEY_LEAKCHECK_{uuid.uuid4().hex}"
    rejected = f"KEY_LEAKCHECK_{uuid.uuid4().hex}"  # unknown to the fake: 401
    fake.set_key(key)
    replies: list[str] = []

    async def post(body: dict[str, object], status: int) -> None:
        async with setup_http.post("/v1.0/providers/setup", json=body) as resp:
            replies.append(await resp.text())
            assert resp.status == status, replies[-1]

    await post(setup_body(key=key), 200)
    created = json.loads(replies[-1])
    fake.add_fault(method="POST", path="/v2/ips", status=503, times=None, skip=1)
    await post(setup_body(key=key), 502)
    fake.clear_faults()
    await post(setup_body(key=rejected), 422)
    await post({"carrier": "telnyx", "credentials": {"api_key": key}}, 400)
    await post(setup_body(key=f"{key} with spaces"), 400)
    await post(setup_body(key=key, carrier="twilio"), 400)
    await setup_events.wait_for("provider_created", id=created["id"])

    journal = await driver.call("GET", "/v1/providers/setups?page_size=100")
    logs = debug_log.getvalue()
    captured = capfd.readouterr()
    # The capture works: the setups, their retries and failures were logged.
    assert "provider_setup_started" in logs and "telnyx_retry" in logs and "rpc_failed" in logs
    haystacks = {
        "logs": logs,
        "captured stdout/stderr": captured.out + captured.err,
        "database": await driver.all_rows_as_text(),
        "events": json.dumps(setup_events.events),
        "replies": "\n".join(replies),
        "journal over RPC": json.dumps(journal.data),
        "requests sent to the carrier": json.dumps([r.to_json() for r in fake.requests]),
    }
    for secret in (key, rejected):
        leaks = [where for where, text in haystacks.items() if secret in text]
        assert leaks == [], f"the API key leaked into: {leaks}"


def test_the_redaction_processor_removes_api_keys_and_credentials() -> None:
    secret = f"KEY_LEAKCHECK_{uuid.uuid4().hex}"
    event = redact_secrets(
        None,
        "warning",
        {
            "event": "x",
            "api_key": secret,
            "credentials": {"api_key": secret},
            "data": {"body": {"credentials": {"api_key": secret}}, "apiKey": secret},
            "message": f"Authorization: Bearer {secret}",
            "url": f"https://api.example/v2?api_key={secret}",
        },
    )
    assert secret not in json.dumps(event)
    assert event["credentials"] == "[redacted]"


def test_the_parsed_request_never_shows_the_key() -> None:
    secret = f"KEY_LEAKCHECK_{uuid.uuid4().hex}"
    request = ProviderSetupRequest.model_validate(setup_body(key=secret))
    assert secret not in repr(request) and secret not in str(request)
    assert secret not in request.model_dump_json()
    assert request.credentials.api_key.get_secret_value() == secret
