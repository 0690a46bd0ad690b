"""calls.attempts: every INVITE of a call (failover), as a JSONB list

A column rather than a table: attempts are few per call, written only by the replica that
owns the call (the whole list, in the same UPDATE as the status it goes with), and always
read with their call, so every row the service already renders (reads, pages, events, the
crash reaper's RETURNING) carries them without a join. Per-provider statistics come from
Prometheus, not from querying attempts. The constant default makes ADD COLUMN a catalog
change in PostgreSQL 11+ (no table rewrite).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "call_manager"


def upgrade() -> None:
    op.add_column(
        "calls",
        sa.Column("attempts", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("calls", "attempts", schema=SCHEMA)
