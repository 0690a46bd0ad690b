"""probe_targets: an index in the claim's own order (failing targets first, then by due time)

The claim sorted every due target to take the first few hundred: at 100,000 providers each
claim read and sorted the whole table (~0.36 s), and a round of 200 claims took a minute.
In index order a claim reads only the rows it takes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "health_checker"


def upgrade() -> None:
    op.create_index(
        "probe_targets_claim_order",
        "probe_targets",
        [sa.text("(consecutive_failures > 0) DESC"), "next_due_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("tm_delete IS NULL"),
    )
    op.drop_index("probe_targets_due", "probe_targets", schema=SCHEMA)


def downgrade() -> None:
    op.create_index(
        "probe_targets_due",
        "probe_targets",
        ["next_due_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("tm_delete IS NULL"),
    )
    op.drop_index("probe_targets_claim_order", "probe_targets", schema=SCHEMA)
