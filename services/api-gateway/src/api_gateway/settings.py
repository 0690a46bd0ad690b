"""api-gateway settings."""

from __future__ import annotations

from pydantic import Field, SecretStr
from shared.settings import CommonSettings

SERVICE = "api-gateway"
SCHEMA = "api_gateway"


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
