"""registrations: outbound SIP registrations this service keeps for providers (issue 9)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "health_checker"


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("provider_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("transport", sa.String(8), nullable=False, server_default=""),
        sa.Column("auth_username", sa.String(255), nullable=False, server_default=""),
        sa.Column("wanted", sa.Boolean, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("expires", sa.Integer, nullable=False),
        sa.Column("source_tm_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("owner_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="registering"),
        sa.Column("reason", sa.String(255), nullable=False, server_default=""),
        sa.Column("reported", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("from_tag", sa.String(64), nullable=False),
        sa.Column("cseq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("registered_host", sa.String(255), nullable=True),
        sa.Column("registered_user", sa.String(255), nullable=True),
        sa.Column("granted_expires", sa.Integer, nullable=False, server_default="0"),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('unregistered','registering','registered','failed')",
            name="registrations_status",
        ),
        schema=SCHEMA,
    )
    op.create_index("registrations_due", "registrations", ["next_due_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("registrations", schema=SCHEMA)
