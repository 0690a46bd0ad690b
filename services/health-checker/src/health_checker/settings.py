"""health-checker settings (env prefix HEALTH_CHECKER_ for its own knobs)."""

from __future__ import annotations

from pydantic import Field
from shared.settings import CommonSettings

SERVICE = "health-checker"
SCHEMA = "health_checker"


class Settings(CommonSettings):
    ops_port: int = Field(default=9103, validation_alias="HEALTH_CHECKER_OPS_PORT")
    rpc_prefetch: int = Field(default=64, validation_alias="HEALTH_CHECKER_RPC_PREFETCH")
