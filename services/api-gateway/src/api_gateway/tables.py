"""Tables in schema api_gateway: who may call the API. The gateway owns nothing else."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    false,
)
from sqlalchemy.dialects.postgresql import UUID

from api_gateway.settings import SCHEMA

metadata = MetaData(schema=SCHEMA)

accounts = Table(
    "accounts",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("customer_id", UUID(as_uuid=False), nullable=False),
    Column("username", String(255), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("permission", Integer, nullable=False),
    Column("tm_create", DateTime(timezone=True), nullable=False),
    Column("tm_update", DateTime(timezone=True), nullable=False),
    Column("tm_delete", DateTime(timezone=True), nullable=True),
    # Bumped by a password change or deletion: tokens of an older generation are refused.
    Column("token_generation", Integer, nullable=False, server_default="0"),
)

accesskeys = Table(
    "accesskeys",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("account_id", UUID(as_uuid=False), ForeignKey(accounts.c.id), nullable=False),
    Column("name", String(255), nullable=False),
    # Only the SHA-256 of the key is kept; the key itself is shown once at creation.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("token_prefix", String(16), nullable=False),
    Column("tm_expire", DateTime(timezone=True), nullable=True),
    Column("tm_create", DateTime(timezone=True), nullable=False),
    Column("tm_delete", DateTime(timezone=True), nullable=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    # "user:<username>" or "addr:<client address>"
    Column("key", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    # Before this, attempts are held back unchecked (a delay doubling with each failure).
    Column("next_attempt", DateTime(timezone=True), nullable=True),
    # Whether the latest attempt was held back (what the attempt statement returns).
    Column("held", Boolean, nullable=False, server_default=false()),
)

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("tm_expire", DateTime(timezone=True), nullable=False),
)
