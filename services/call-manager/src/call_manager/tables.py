"""Tables in schema call_manager (this service's only storage)."""

from __future__ import annotations

from shared.events import outbox_table
from sqlalchemy import MetaData

from call_manager.settings import SCHEMA

metadata = MetaData(schema=SCHEMA)

outbox = outbox_table(metadata, SCHEMA)
