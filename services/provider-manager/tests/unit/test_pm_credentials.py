"""Sealing provider passwords: round trip, binding to the provider, key checks."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from provider_manager.credentials import (
    CredentialCipher,
    CredentialKeyError,
    load_key,
    new_key_text,
    parse_key,
)
from shared.errors import AppError


def test_round_trip_and_fresh_nonce_each_time() -> None:
    cipher = CredentialCipher(parse_key(new_key_text()))
    pid = str(uuid.uuid4())
    first, second = cipher.encrypt(pid, "s3cret"), cipher.encrypt(pid, "s3cret")
    assert first != second and "s3cret" not in first
    assert first.startswith("v1.")
    assert cipher.decrypt(pid, first) == cipher.decrypt(pid, second) == "s3cret"


def test_a_value_moved_to_another_provider_does_not_open() -> None:
    cipher = CredentialCipher(parse_key(new_key_text()))
    sealed = cipher.encrypt(str(uuid.uuid4()), "s3cret")
    with pytest.raises(AppError) as caught:
        cipher.decrypt(str(uuid.uuid4()), sealed)
    assert caught.value.reason == "CREDENTIALS_UNREADABLE"


def test_another_key_is_named_as_such() -> None:
    pid = str(uuid.uuid4())
    sealed = CredentialCipher(parse_key(new_key_text())).encrypt(pid, "x")
    with pytest.raises(AppError) as caught:
        CredentialCipher(parse_key(new_key_text())).decrypt(pid, sealed)
    assert caught.value.reason == "CREDENTIALS_KEY_MISMATCH"


def test_no_key_refuses_with_503() -> None:
    with pytest.raises(AppError) as caught:
        CredentialCipher(None).encrypt(str(uuid.uuid4()), "x")
    assert caught.value.http_status == 503
    assert caught.value.reason == "CREDENTIALS_NOT_CONFIGURED"


@pytest.mark.parametrize("bad", ["", "not base64 !!", "c2hvcnQ="])
def test_bad_keys_are_refused(bad: str) -> None:
    with pytest.raises(CredentialKeyError):
        parse_key(bad)


def test_key_file_and_precedence(tmp_path: Path) -> None:
    text = new_key_text()
    path = tmp_path / "key"
    path.write_text(text + "\n")
    assert load_key(None, path) == parse_key(text)
    other = new_key_text()
    assert load_key(other, path) == parse_key(other)  # the variable wins
    assert load_key(None, None) is None
    with pytest.raises(CredentialKeyError):
        load_key(None, tmp_path / "missing")


def test_standard_and_url_safe_base64_both_work() -> None:
    import base64
    import os

    raw = os.urandom(32)
    assert parse_key(base64.b64encode(raw).decode()) == raw  # openssl rand -base64 32
    assert parse_key(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
