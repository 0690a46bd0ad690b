"""provider_setups: the journal of one-step carrier setups

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "provider_manager"
STATES = (
    "pending",
    "ovp_created",
    "connection_created",
    "ips_created",
    "done",
    "rolled_back",
    "cleanup_pending",
)


def upgrade() -> None:
    op.create_table(
        "provider_setups",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("provider_id", UUID(as_uuid=False), nullable=False),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("steps", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("resources", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("errors", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("cleanup", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_update", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")",
            name="provider_setups_state",
        ),
        schema=SCHEMA,
    )
    op.create_index("provider_setups_provider", "provider_setups", ["provider_id"], schema=SCHEMA)
    op.create_index(
        "provider_setups_page",
        "provider_setups",
        [sa.text("tm_create DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "provider_setups_unfinished",
        "provider_setups",
        ["tm_create"],
        schema=SCHEMA,
        postgresql_where=sa.text("state NOT IN ('done', 'rolled_back')"),
    )


def downgrade() -> None:
    op.drop_table("provider_setups", schema=SCHEMA)
