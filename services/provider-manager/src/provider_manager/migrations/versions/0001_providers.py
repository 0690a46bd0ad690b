"""providers and the event outbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "provider_manager"


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("tech_prefix", sa.String(255), nullable=False, server_default=""),
        sa.Column("tech_postfix", sa.String(255), nullable=False, server_default=""),
        sa.Column("tech_headers", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("health_status", sa.String(16), nullable=False, server_default="unknown"),
        sa.Column("health_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_delete", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "health_status IN ('unknown','healthy','unhealthy')", name="providers_health_status"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "providers_active_page",
        "providers",
        [sa.text("tm_create DESC"), sa.text("id DESC")],
        schema=SCHEMA,
        postgresql_where=sa.text("tm_delete IS NULL"),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("id", UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column(
            "tm_create", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("outbox", schema=SCHEMA)
    op.drop_table("providers", schema=SCHEMA)
