"""dialogs: what a BYE needs for each answered call, so that a survivor can end the carrier
leg of a replica that died.

One row per answered call (inserted with the move to progressing, deleted with the move to
hangup): Call-ID, both tags, From/To as sent and received, the remote target, the route
set, the last CSeq we used, and where the INVITE went. A table, not columns of calls: rows
live only while the call does, and the reaper reads them by owner.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "call_manager"


def upgrade() -> None:
    op.create_table(
        "dialogs",
        sa.Column("call_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("owner_replica", sa.String(64), nullable=False),
        sa.Column("sip_call_id", sa.Text, nullable=False),
        sa.Column("local_tag", sa.Text, nullable=False),
        sa.Column("remote_tag", sa.Text, nullable=False),
        sa.Column("local_party", sa.Text, nullable=False),
        sa.Column("remote_party", sa.Text, nullable=False),
        sa.Column("remote_target", sa.Text, nullable=False),
        sa.Column("route_set", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("local_cseq", sa.Integer, nullable=False),
        sa.Column("transport", sa.String(8), nullable=False, server_default="udp"),
        sa.Column("destination_host", sa.Text, nullable=False),
        sa.Column("destination_port", sa.Integer, nullable=False),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("dialogs_owner", "dialogs", ["owner_replica"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("dialogs", schema=SCHEMA)
