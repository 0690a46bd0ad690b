"""The RPC wire envelope (docs/architecture.md, section 2), VoIPbin-compatible."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

import orjson
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


def _fallback(value: Any) -> Any:
    # What pydantic's model_dump_json (the encoder before this one) wrote for these types.
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def encode(envelope: dict[str, Any]) -> bytes:
    """An envelope as JSON bytes in one pass: no model built just to be dumped again.
    Values JSON has no type for (Decimal, UUID's kin, custom objects) are sent as str()."""
    return orjson.dumps(envelope, default=_fallback, option=_OPTIONS)
