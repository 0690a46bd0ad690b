"""Tables in schema health_checker (this service's only storage)."""

from __future__ import annotations

from shared.events import outbox_table
from sqlalchemy import MetaData

from health_checker.settings import SCHEMA

metadata = MetaData(schema=SCHEMA)

outbox = outbox_table(metadata, SCHEMA)
