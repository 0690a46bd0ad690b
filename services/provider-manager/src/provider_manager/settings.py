"""provider-manager settings (env prefix PROVIDER_MANAGER_ for its own knobs)."""

from __future__ import annotations

from pydantic import Field
from shared.settings import CommonSettings

SERVICE = "provider-manager"
SCHEMA = "provider_manager"


class Settings(CommonSettings):
    ops_port: int = Field(default=9101, validation_alias="PROVIDER_MANAGER_OPS_PORT")
    rpc_prefetch: int = Field(default=64, validation_alias="PROVIDER_MANAGER_RPC_PREFETCH")
