"""drop the event outbox: the health-checker publishes no events (provider-manager publishes
provider_health_changed when a written-back result changes a provider)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "health_checker"


def upgrade() -> None:
    op.drop_table("outbox", schema=SCHEMA)


def downgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("id", UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("tm_create", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )
