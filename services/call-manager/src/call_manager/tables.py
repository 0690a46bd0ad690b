"""Tables in schema call_manager (this service's only storage).

Ids that may be absent (groupcall of a lone call, answer of a groupcall) hold the nil UUID,
as VoIPbin renders them, so the wire shape never carries null ids.
"""

from __future__ import annotations

from shared.events import outbox_table
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from call_manager.settings import SCHEMA

metadata = MetaData(schema=SCHEMA)
NIL = text("'00000000-0000-0000-0000-000000000000'::uuid")
EMPTY_LIST = text("'[]'::jsonb")
EMPTY_OBJECT = text("'{}'::jsonb")


def _uuid(name: str, primary_key: bool = False) -> Column[str]:
    if primary_key:
        return Column(name, UUID(as_uuid=False), primary_key=True)
    return Column(name, UUID(as_uuid=False), nullable=False, server_default=NIL)


def _times() -> list[Column[object]]:
    return [
        Column("tm_create", DateTime(timezone=True), nullable=False),
        Column("tm_update", DateTime(timezone=True), nullable=False),
        Column("tm_delete", DateTime(timezone=True), nullable=True),
    ]


providercalls = Table(
    "providercalls",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("customer_id"),
    _uuid("provider_id"),
    _uuid("flow_id"),
    Column("source", JSONB, nullable=True),
    Column("destinations", JSONB, nullable=False, server_default=EMPTY_LIST),
    Column("anonymous", String(16), nullable=False),
    Column("actions", JSONB, nullable=False, server_default=EMPTY_LIST),
    Column("call_ids", JSONB, nullable=False, server_default=EMPTY_LIST),
    Column("groupcall_ids", JSONB, nullable=False, server_default=EMPTY_LIST),
    Column("failed_destinations", JSONB, nullable=False, server_default=EMPTY_LIST),
    *_times(),
    Index(
        "providercalls_active_page",
        text("tm_create DESC"),
        text("id DESC"),
        postgresql_where=text("tm_delete IS NULL"),
    ),
    Index("providercalls_provider", "provider_id"),
    Index("providercalls_customer", "customer_id"),
)

calls = Table(
    "calls",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("customer_id"),
    Column("owner_type", String(32), nullable=False, server_default=""),
    _uuid("owner_id"),
    _uuid("flow_id"),
    Column("type", String(32), nullable=False, server_default="flow"),
    _uuid("master_call_id"),
    _uuid("groupcall_id"),
    _uuid("providercall_id"),
    _uuid("provider_id"),
    Column("source", JSONB, nullable=False),
    Column("destination", JSONB, nullable=False),
    Column("status", String(16), nullable=False),
    Column("direction", String(16), nullable=False, server_default="outgoing"),
    Column("anonymous", String(16), nullable=False),
    Column("actions", JSONB, nullable=False, server_default=EMPTY_LIST),
    Column("metadata", JSONB, nullable=False, server_default=EMPTY_OBJECT),
    Column("hangup_by", String(16), nullable=False, server_default=""),
    Column("hangup_reason", String(16), nullable=False, server_default=""),
    Column("sip_status_code", Integer, nullable=False, server_default="0"),
    # The replica holding the live SIP dialog; a survivor finishes the call if it dies.
    Column("owner_replica", String(64), nullable=False),
    Column("tm_ringing", DateTime(timezone=True), nullable=True),
    Column("tm_progressing", DateTime(timezone=True), nullable=True),
    Column("tm_hangup", DateTime(timezone=True), nullable=True),
    *_times(),
    # Every INVITE of the call (failover), as the wire renders them (migration 0003).
    Column("attempts", JSONB, nullable=False, server_default=EMPTY_LIST),
    Index("calls_page", text("tm_create DESC"), text("id DESC")),
    Index("calls_customer_page", "customer_id", text("tm_create DESC"), text("id DESC")),
    Index("calls_live_owner", "owner_replica", postgresql_where=text("status <> 'hangup'")),
    # The fair-share count of a customer's live calls (migration 0005).
    Index("calls_live_customer", "customer_id", postgresql_where=text("status <> 'hangup'")),
)

groupcalls = Table(
    "groupcalls",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("customer_id"),
    Column("owner_type", String(32), nullable=False, server_default=""),
    _uuid("owner_id"),
    Column("status", String(16), nullable=False),
    _uuid("flow_id"),
    _uuid("providercall_id"),
    _uuid("provider_id"),
    Column("source", JSONB, nullable=False),
    Column("destination", JSONB, nullable=False),
    Column("destinations", JSONB, nullable=False, server_default=EMPTY_LIST),
    Column("ring_method", String(16), nullable=False),
    Column("answer_method", String(32), nullable=False, server_default="hangup_others"),
    Column("anonymous", String(16), nullable=False),
    Column("actions", JSONB, nullable=False, server_default=EMPTY_LIST),
    _uuid("answer_call_id"),
    Column("call_ids", JSONB, nullable=False, server_default=EMPTY_LIST),
    Column("call_count", Integer, nullable=False, server_default="0"),
    Column("dial_index", Integer, nullable=False, server_default="0"),
    Column("owner_replica", String(64), nullable=False),
    *_times(),
    Index("groupcalls_page", text("tm_create DESC"), text("id DESC")),
    Index("groupcalls_customer_page", "customer_id", text("tm_create DESC"), text("id DESC")),
    Index("groupcalls_live_owner", "owner_replica", postgresql_where=text("status <> 'hangup'")),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _uuid("customer_id"),
    Column("key", String(255), nullable=False),
    # sha256 of the request body: the same key with another body is a client bug, not a retry.
    Column("request_hash", String(64), nullable=False),
    _uuid("providercall_id"),
    Column("state", String(16), nullable=False),
    Column("tm_create", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("customer_id", "key"),
    Index("idempotency_keys_age", "tm_create"),
)

# What a BYE needs, per answered call (migration 0004); a survivor ends a dead replica's legs.
dialogs = Table(
    "dialogs",
    metadata,
    _uuid("call_id", primary_key=True),
    Column("owner_replica", String(64), nullable=False),
    Column("sip_call_id", Text, nullable=False),
    Column("local_tag", Text, nullable=False),
    Column("remote_tag", Text, nullable=False),
    Column("local_party", Text, nullable=False),
    Column("remote_party", Text, nullable=False),
    Column("remote_target", Text, nullable=False),
    Column("route_set", JSONB, nullable=False, server_default=EMPTY_LIST),
    Column("local_cseq", Integer, nullable=False),
    Column("transport", String(8), nullable=False, server_default="udp"),
    Column("destination_host", Text, nullable=False),
    Column("destination_port", Integer, nullable=False),
    Column("tm_create", DateTime(timezone=True), nullable=False),
    Index("dialogs_owner", "owner_replica"),
)

# Verified caller IDs: the sources a customer's POST /calls may use (migration 0005).
caller_ids = Table(
    "caller_ids",
    metadata,
    _uuid("id", primary_key=True),
    _uuid("customer_id"),
    Column("pattern", String(255), nullable=False),
    Column("name", String(255), nullable=False, server_default=""),
    Column("tm_create", DateTime(timezone=True), nullable=False),
    UniqueConstraint("customer_id", "pattern", name="caller_ids_customer_pattern"),
)

replicas = Table(
    "replicas",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("heartbeat", DateTime(timezone=True), nullable=False),
    Column("tm_create", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata, SCHEMA)
