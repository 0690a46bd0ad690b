"""The RPC wire envelope (docs/architecture.md, section 2), VoIPbin-compatible."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Method = Literal["GET", "POST", "PUT", "DELETE", "PATCH"]


class RpcRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    uri: str
    method: Method
    publisher: str = ""
    request_id: str | None = None
    data_type: str = "application/json"
    data: Any = None


class RpcResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status_code: int
    data_type: str = "application/json"
    data: Any = None

    @property
    def ok(self) -> bool:
        return self.status_code < 400
