"""probe targets, probe history ring, leases, processed events

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "health_checker"


def upgrade() -> None:
    op.create_table(
        "probe_targets",
        sa.Column("provider_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("source_tm_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_status", sa.String(16), nullable=False, server_default="unknown"),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("probes_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column(
            "tm_create", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "tm_update", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("tm_delete", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "last_status IN ('unknown','healthy','unhealthy')", name="probe_targets_last_status"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "probe_targets_due",
        "probe_targets",
        ["next_due_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("tm_delete IS NULL"),
    )
    op.create_table(
        "probe_history",
        sa.Column("provider_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("slot", sa.SmallInteger, primary_key=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.SmallInteger, nullable=True),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("rtt_ms", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        schema=SCHEMA,
        postgresql_with={"fillfactor": 70},
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "processed_events",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "tm_create", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("processed_events", schema=SCHEMA)
    op.drop_table("leases", schema=SCHEMA)
    op.drop_table("probe_history", schema=SCHEMA)
    op.drop_table("probe_targets", schema=SCHEMA)
