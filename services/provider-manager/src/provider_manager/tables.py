"""Tables in schema provider_manager (this service's only storage)."""

from __future__ import annotations

from shared.events import outbox_table
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
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
    # Carrier edge (migration 0004): "" lets RFC 3263 choose the transport.
    Column("transport", String(8), nullable=False, server_default=""),
    Column("auth_username", String(255), nullable=False, server_default=""),
    # AES-GCM sealed (credentials.py); NULL = no password. Never rendered, never in events.
    Column("auth_password_enc", Text, nullable=True),
    Column("register", Boolean, nullable=False, server_default=text("false")),
    Column("register_expires", Integer, nullable=False, server_default="3600"),
    Column("registration_status", String(16), nullable=False, server_default="unregistered"),
    Column("registration_reason", String(255), nullable=False, server_default=""),
    Column("registration_changed_at", DateTime(timezone=True), nullable=True),
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

# Which provider carries a customer's calls to numbers starting with `target` (see
# migrations/versions/0002_routes.py for why each index exists).
routes = Table(
    "routes",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("customer_id", UUID(as_uuid=False), nullable=False),
    Column("name", String(255), nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
    Column("provider_id", UUID(as_uuid=False), ForeignKey(providers.c.id), nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("target", String(16), nullable=False),
    Column("tm_create", DateTime(timezone=True), nullable=False),
    Column("tm_update", DateTime(timezone=True), nullable=False),
    # NULL = not deleted; rendered as the seeds' 9999-01-01 sentinel, like providers.
    Column("tm_delete", DateTime(timezone=True), nullable=True),
    Index(
        "routes_resolve",
        "customer_id",
        "target",
        "priority",
        "tm_create",
        postgresql_where=text("tm_delete IS NULL"),
    ),
    Index(
        "routes_active_page",
        text("tm_create DESC"),
        text("id DESC"),
        postgresql_where=text("tm_delete IS NULL"),
    ),
    Index(
        "routes_customer_page",
        "customer_id",
        text("tm_create DESC"),
        text("id DESC"),
        postgresql_where=text("tm_delete IS NULL"),
    ),
)


# The journal of one-step carrier setups: one row per attempt, written before and after every
# carrier call so a crash leaves a durable record of what may exist at the carrier. Never
# holds the API key. `resources` has the provider-metadata keys (telnyx_profile_id, ...).
provider_setups = Table(
    "provider_setups",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    # The provider this setup creates; stable across a redelivered request.
    Column("provider_id", UUID(as_uuid=False), nullable=False),
    Column("carrier", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("state", String(32), nullable=False),
    Column("steps", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("resources", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("errors", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("cleanup", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("tm_create", DateTime(timezone=True), nullable=False),
    Column("tm_update", DateTime(timezone=True), nullable=False),
    Index("provider_setups_provider", "provider_id"),
    Index("provider_setups_page", text("tm_create DESC"), text("id DESC")),
    Index(
        "provider_setups_unfinished",
        "tm_create",
        postgresql_where=text("state NOT IN ('done', 'rolled_back')"),
    ),
)

outbox = outbox_table(metadata, SCHEMA)
