"""fair share: live calls per customer; verified caller IDs per customer

The fair-share check counts a customer's live calls and the calls it created in the last
second, under a per-customer advisory lock, in the transaction that inserts the new ones:
the partial index keeps the first count to that customer's live rows, the existing
(customer_id, tm_create) index serves the second.

Caller IDs live here because call-manager is where a call's source is checked (at creation,
as the authority every RPC caller goes through) and nothing else reads them: no other
service owns customers in this platform, and a lookup over RPC per call would add a hop
(and a way to fail) to every POST /calls.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "call_manager"


def upgrade() -> None:
    op.create_index(
        "calls_live_customer",
        "calls",
        ["customer_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("status <> 'hangup'"),
    )
    op.create_table(
        "caller_ids",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=False), nullable=False),
        sa.Column("pattern", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("customer_id", "pattern", name="caller_ids_customer_pattern"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("caller_ids", schema=SCHEMA)
    op.drop_index("calls_live_customer", "calls", schema=SCHEMA)
