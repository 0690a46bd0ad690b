"""login throttle: growing delay between failures

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "api_gateway"


def upgrade() -> None:
    # When the key's next attempt may be checked (a delay doubling with each failure), and
    # whether the latest attempt was held back by it: the attempt statement returns that.
    op.add_column(
        "login_failures",
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.add_column(
        "login_failures",
        sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("login_failures", "held", schema=SCHEMA)
    op.drop_column("login_failures", "next_attempt", schema=SCHEMA)
