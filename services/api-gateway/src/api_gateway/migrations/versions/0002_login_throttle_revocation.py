"""login throttle and token revocation

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "api_gateway"


def upgrade() -> None:
    # Failed logins per key ("user:<name>" / "addr:<ip>") in a fixed window; shared by every
    # gateway replica so a throttle cannot be dodged by spreading attempts over them.
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("login_failures_age", "login_failures", ["window_start"], schema=SCHEMA)
    # Tokens carry the account's generation: a password change or deletion bumps it and so
    # ends every token issued before.
    op.add_column(
        "accounts",
        sa.Column("token_generation", sa.Integer, nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    # Tokens ended one by one (logout), kept until they would have expired anyway.
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("tm_expire", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("revoked_tokens_expire", "revoked_tokens", ["tm_expire"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("revoked_tokens", schema=SCHEMA)
    op.drop_column("accounts", "token_generation", schema=SCHEMA)
    op.drop_table("login_failures", schema=SCHEMA)
