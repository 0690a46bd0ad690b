"""call-manager settings (env prefix CALL_MANAGER_ for its own knobs)."""

from __future__ import annotations

from pydantic import Field
from shared.settings import CommonSettings

SERVICE = "call-manager"
SCHEMA = "call_manager"


class Settings(CommonSettings):
    ops_port: int = Field(default=9102, validation_alias="CALL_MANAGER_OPS_PORT")
    rpc_prefetch: int = Field(default=64, validation_alias="CALL_MANAGER_RPC_PREFETCH")
