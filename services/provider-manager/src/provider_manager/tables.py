"""Tables in schema provider_manager (this service's only storage)."""

from __future__ import annotations

from shared.events import outbox_table
from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from provider_manager.settings import SCHEMA

metadata = MetaData(schema=SCHEMA)

providers = Table(
    "providers",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("hostname", String(255), nullable=False),
    Column("tech_prefix", String(255), nullable=False, server_default=""),
    Column("tech_postfix", String(255), nullable=False, server_default=""),
    Column("tech_headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("name", String(255), nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("health_status", String(16), nullable=False, server_default="unknown"),
    Column("health_checked_at", DateTime(timezone=True), nullable=True),
    Column("tm_create", DateTime(timezone=True), nullable=False),
    Column("tm_update", DateTime(timezone=True), nullable=False),
    # NULL = not deleted; rendered as the seeds' 9999-01-01 sentinel.
    Column("tm_delete", DateTime(timezone=True), nullable=True),
    Index(
        "providers_active_page",
        text("tm_create DESC"),
        text("id DESC"),
        postgresql_where=text("tm_delete IS NULL"),
    ),
)

outbox = outbox_table(metadata, SCHEMA)
