"""Provider passwords at rest: AES-256-GCM with a key from settings, never from the database.

A stored value is `v1.<key id>.<base64url(nonce || ciphertext+tag)>`. The key id (the first
8 hex digits of SHA-256 of the key) makes "this was stored with another key" a clear error
instead of an opaque tag failure, and the provider id is the associated data, so a value
copied onto another provider's row does not decrypt.

Key sources, in order: PROVIDER_CREDENTIALS_KEY (32 bytes, base64), then
PROVIDER_CREDENTIALS_KEY_FILE (a file holding that text; `make run` generates one under
.run/). With neither, the service still runs, but storing or reading a password is refused
with 503 CREDENTIALS_NOT_CONFIGURED: a password is never kept in clear, and a key the service
made up by itself would differ between replicas and be lost with the container.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from shared.errors import AppError, ErrorStatus

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12


class CredentialKeyError(ValueError):
    """The configured key is unusable (wrong length, not base64, unreadable file)."""


def not_configured() -> AppError:
    return AppError(
        ErrorStatus.UNAVAILABLE,
        "CREDENTIALS_NOT_CONFIGURED",
        "provider passwords cannot be stored: set PROVIDER_CREDENTIALS_KEY or "
        "PROVIDER_CREDENTIALS_KEY_FILE on provider-manager",
    )


def new_key_text() -> str:
    """A fresh key in the form the settings take."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def parse_key(text: str) -> bytes:
    raw = text.strip()
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise CredentialKeyError("credentials key is not base64") from None
    if len(key) != KEY_BYTES:
        raise CredentialKeyError(f"credentials key must decode to {KEY_BYTES} bytes")
    return key


def load_key(key_text: str | None, key_file: Path | None) -> bytes | None:
    if key_text:
        return parse_key(key_text)
    if key_file is not None:
        try:
            return parse_key(key_file.read_text())
        except OSError as exc:
            raise CredentialKeyError(f"credentials key file unreadable: {exc.strerror}") from None
    return None


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class CredentialCipher:
    def __init__(self, key: bytes | None) -> None:
        self._aead = AESGCM(key) if key is not None else None
        self._key_id = _key_id(key) if key is not None else ""

    @property
    def configured(self) -> bool:
        return self._aead is not None

    def encrypt(self, provider_id: str, password: str) -> str:
        if self._aead is None:
            raise not_configured()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, password.encode(), provider_id.encode())
        blob = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{VERSION}.{self._key_id}.{blob}"

    def decrypt(self, provider_id: str, stored: str) -> str:
        if self._aead is None:
            raise not_configured()
        version, key_id, blob = [*stored.split(".", 2), "", ""][:3]
        if version != VERSION or key_id != self._key_id:
            raise AppError(
                ErrorStatus.INTERNAL,
                "CREDENTIALS_KEY_MISMATCH",
                "the stored password was encrypted with another key; set the password again",
            )
        try:
            raw = base64.urlsafe_b64decode(blob)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], provider_id.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise AppError(
                ErrorStatus.INTERNAL,
                "CREDENTIALS_UNREADABLE",
                "the stored password cannot be decrypted; set it again",
            ) from None
        return plain.decode()
