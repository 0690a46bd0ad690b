"""probe_targets.transport: the provider's SIP transport ("" = RFC 3263 chooses)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "health_checker"


def upgrade() -> None:
    op.add_column(
        "probe_targets",
        sa.Column("transport", sa.String(8), nullable=False, server_default=""),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("probe_targets", "transport", schema=SCHEMA)
