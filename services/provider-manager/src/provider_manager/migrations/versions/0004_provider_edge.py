"""providers: transport, Digest credentials (password sealed), registration

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "provider_manager"


def upgrade() -> None:
    add = [
        sa.Column("transport", sa.String(8), nullable=False, server_default=""),
        sa.Column("auth_username", sa.String(255), nullable=False, server_default=""),
        sa.Column("auth_password_enc", sa.Text, nullable=True),
        sa.Column("register", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("register_expires", sa.Integer, nullable=False, server_default="3600"),
        sa.Column(
            "registration_status", sa.String(16), nullable=False, server_default="unregistered"
        ),
        sa.Column("registration_reason", sa.String(255), nullable=False, server_default=""),
        sa.Column("registration_changed_at", sa.DateTime(timezone=True), nullable=True),
    ]
    for column in add:
        op.add_column("providers", column, schema=SCHEMA)
    op.create_check_constraint(
        "providers_transport", "providers", "transport IN ('', 'udp', 'tcp', 'tls')", schema=SCHEMA
    )
    op.create_check_constraint(
        "providers_registration_status",
        "providers",
        "registration_status IN ('unregistered', 'registering', 'registered', 'failed')",
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_constraint("providers_registration_status", "providers", schema=SCHEMA)
    op.drop_constraint("providers_transport", "providers", schema=SCHEMA)
    for name in (
        "registration_changed_at",
        "registration_reason",
        "registration_status",
        "register_expires",
        "register",
        "auth_password_enc",
        "auth_username",
        "transport",
    ):
        op.drop_column("providers", name, schema=SCHEMA)
