"""The event wire envelope (docs/architecture.md, section 3)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.timefmt import render, utcnow


def _now() -> str:
    return render(utcnow()) or ""


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    publisher: str
    timestamp: str = Field(default_factory=_now)
    request_id: str | None = None
    data_type: str = "application/json"
    data: Any = None
