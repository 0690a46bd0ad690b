"""api-gateway settings."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from shared.settings import CommonSettings

SERVICE = "api-gateway"
SCHEMA = "api_gateway"
# HS256 keys shorter than the hash output make forging a token a matter of guessing the key.
MIN_JWT_SECRET_BYTES = 32


class Settings(CommonSettings):
    host: str = Field(default="127.0.0.1", validation_alias="GATEWAY_HOST")
    port: int = Field(default=8080, validation_alias="GATEWAY_PORT")
    ops_port: int = Field(default=9100, validation_alias="GATEWAY_OPS_PORT")
    # Unset: a random secret per process, so tokens do not survive a restart (dev only).
    jwt_secret: SecretStr | None = Field(default=None, validation_alias="JWT_SECRET")
    jwt_expiry_seconds: int = Field(default=7 * 24 * 3600, validation_alias="JWT_EXPIRY_SECONDS")
    admin_username: str = Field(default="admin", validation_alias="ADMIN_USERNAME")
    admin_password: SecretStr | None = Field(default=None, validation_alias="ADMIN_PASSWORD")
    max_body_bytes: int = Field(default=1024 * 1024, validation_alias="GATEWAY_MAX_BODY_BYTES")
    # How long an account looked up for a request is trusted before reading it again.
    identity_cache_seconds: float = Field(default=5.0, validation_alias="GATEWAY_IDENTITY_CACHE")
    # Failed logins: after this many within the window, attempts are refused (429) until
    # the window that began with the first failure has passed; before that, each failure from
    # the 2nd holds the key's next attempt back for a delay (this, doubling each time; 0: off).
    login_max_failures: int = Field(default=5, ge=1, validation_alias="GATEWAY_LOGIN_MAX_FAILURES")
    login_address_max_failures: int = Field(
        default=5, ge=1, validation_alias="GATEWAY_LOGIN_ADDRESS_MAX_FAILURES"
    )
    login_window_seconds: float = Field(
        default=900.0, gt=0, validation_alias="GATEWAY_LOGIN_WINDOW"
    )
    login_delay_seconds: float = Field(default=1.0, ge=0, validation_alias="GATEWAY_LOGIN_DELAY")
    # argon2 checks run on a pool of their own: this many at once, this many more waiting.
    password_hash_workers: int = Field(
        default=2, ge=1, le=16, validation_alias="GATEWAY_PASSWORD_HASH_WORKERS"
    )
    password_hash_queue: int = Field(
        default=32, ge=0, validation_alias="GATEWAY_PASSWORD_HASH_QUEUE"
    )

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes")
        return value
