"""providercalls, calls, groupcalls, idempotency keys, replica heartbeats

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "call_manager"
NIL = sa.text("'00000000-0000-0000-0000-000000000000'::uuid")
EMPTY_LIST = sa.text("'[]'::jsonb")
EMPTY_OBJECT = sa.text("'{}'::jsonb")


def _uuid(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UUID(as_uuid=False), nullable=False, server_default=NIL)


def _times() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_delete", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "providercalls",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        _uuid("customer_id"),
        _uuid("provider_id"),
        _uuid("flow_id"),
        sa.Column("source", JSONB, nullable=True),
        sa.Column("destinations", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("anonymous", sa.String(16), nullable=False),
        sa.Column("actions", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("call_ids", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("groupcall_ids", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("failed_destinations", JSONB, nullable=False, server_default=EMPTY_LIST),
        *_times(),
        sa.CheckConstraint("anonymous IN ('yes','no','auto')", name="providercalls_anonymous"),
        schema=SCHEMA,
    )
    op.create_index(
        "providercalls_active_page",
        "providercalls",
        [sa.text("tm_create DESC"), sa.text("id DESC")],
        schema=SCHEMA,
        postgresql_where=sa.text("tm_delete IS NULL"),
    )
    op.create_index("providercalls_provider", "providercalls", ["provider_id"], schema=SCHEMA)
    op.create_index("providercalls_customer", "providercalls", ["customer_id"], schema=SCHEMA)

    op.create_table(
        "calls",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        _uuid("customer_id"),
        sa.Column("owner_type", sa.String(32), nullable=False, server_default=""),
        _uuid("owner_id"),
        _uuid("flow_id"),
        sa.Column("type", sa.String(32), nullable=False, server_default="flow"),
        _uuid("master_call_id"),
        _uuid("groupcall_id"),
        _uuid("providercall_id"),
        _uuid("provider_id"),
        sa.Column("source", JSONB, nullable=False),
        sa.Column("destination", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False, server_default="outgoing"),
        sa.Column("anonymous", sa.String(16), nullable=False),
        sa.Column("actions", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("metadata", JSONB, nullable=False, server_default=EMPTY_OBJECT),
        sa.Column("hangup_by", sa.String(16), nullable=False, server_default=""),
        sa.Column("hangup_reason", sa.String(16), nullable=False, server_default=""),
        sa.Column("sip_status_code", sa.Integer, nullable=False, server_default="0"),
        sa.Column("owner_replica", sa.String(64), nullable=False),
        sa.Column("tm_ringing", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tm_progressing", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tm_hangup", sa.DateTime(timezone=True), nullable=True),
        *_times(),
        sa.CheckConstraint(
            "status IN ('dialing','ringing','progressing','terminating','canceling','hangup')",
            name="calls_status",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "calls_page", "calls", [sa.text("tm_create DESC"), sa.text("id DESC")], schema=SCHEMA
    )
    op.create_index(
        "calls_customer_page",
        "calls",
        ["customer_id", sa.text("tm_create DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "calls_live_owner",
        "calls",
        ["owner_replica"],
        schema=SCHEMA,
        postgresql_where=sa.text("status <> 'hangup'"),
    )

    op.create_table(
        "groupcalls",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        _uuid("customer_id"),
        sa.Column("owner_type", sa.String(32), nullable=False, server_default=""),
        _uuid("owner_id"),
        sa.Column("status", sa.String(16), nullable=False),
        _uuid("flow_id"),
        _uuid("providercall_id"),
        _uuid("provider_id"),
        sa.Column("source", JSONB, nullable=False),
        sa.Column("destination", JSONB, nullable=False),
        sa.Column("destinations", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("ring_method", sa.String(16), nullable=False),
        sa.Column("answer_method", sa.String(32), nullable=False, server_default="hangup_others"),
        sa.Column("anonymous", sa.String(16), nullable=False),
        sa.Column("actions", JSONB, nullable=False, server_default=EMPTY_LIST),
        _uuid("answer_call_id"),
        sa.Column("call_ids", JSONB, nullable=False, server_default=EMPTY_LIST),
        sa.Column("call_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("dial_index", sa.Integer, nullable=False, server_default="0"),
        sa.Column("owner_replica", sa.String(64), nullable=False),
        *_times(),
        sa.CheckConstraint(
            "status IN ('progressing','hangingup','hangup')", name="groupcalls_status"
        ),
        sa.CheckConstraint("ring_method IN ('ring_all','linear')", name="groupcalls_ring_method"),
        schema=SCHEMA,
    )
    op.create_index(
        "groupcalls_page",
        "groupcalls",
        [sa.text("tm_create DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "groupcalls_customer_page",
        "groupcalls",
        ["customer_id", sa.text("tm_create DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "groupcalls_live_owner",
        "groupcalls",
        ["owner_replica"],
        schema=SCHEMA,
        postgresql_where=sa.text("status <> 'hangup'"),
    )

    op.create_table(
        "idempotency_keys",
        _uuid("customer_id"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        _uuid("providercall_id"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "key"),
        schema=SCHEMA,
    )
    op.create_index("idempotency_keys_age", "idempotency_keys", ["tm_create"], schema=SCHEMA)

    op.create_table(
        "replicas",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("replicas", "idempotency_keys", "groupcalls", "calls", "providercalls"):
        op.drop_table(table, schema=SCHEMA)
