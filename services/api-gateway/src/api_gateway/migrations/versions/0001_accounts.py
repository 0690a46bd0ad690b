"""accounts and access keys

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "api_gateway"


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=False), nullable=False),
        sa.Column("username", sa.String(255), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("permission", sa.Integer, nullable=False),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_delete", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.create_table(
        "accesskeys",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "account_id",
            UUID(as_uuid=False),
            sa.ForeignKey(f"{SCHEMA}.accounts.id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("token_prefix", sa.String(16), nullable=False),
        sa.Column("tm_expire", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_delete", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("accesskeys", schema=SCHEMA)
    op.drop_table("accounts", schema=SCHEMA)
