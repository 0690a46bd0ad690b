"""routes: which provider carries a customer's calls to a number prefix

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "provider_manager"


def upgrade() -> None:
    op.create_table(
        "routes",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=False), nullable=False),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        # Providers are only ever soft-deleted, so the key keeps existing; the foreign key
        # guards against a route to a provider that never existed. "Undeleted" is checked
        # by the service under a FOR SHARE lock.
        sa.Column(
            "provider_id",
            UUID(as_uuid=False),
            sa.ForeignKey(f"{SCHEMA}.providers.id", name="routes_provider_id_fkey"),
            nullable=False,
        ),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("tm_create", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tm_delete", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(r"target = 'all' OR target ~ '^\+[0-9]{1,8}$'", name="routes_target"),
        schema=SCHEMA,
    )
    # Dial-route resolution: equality on (customer_id, target) for the two customers and the
    # number's nine candidate targets, rows already in priority order.
    op.create_index(
        "routes_resolve",
        "routes",
        ["customer_id", "target", "priority", "tm_create"],
        schema=SCHEMA,
        postgresql_where=sa.text("tm_delete IS NULL"),
    )
    # Keyset pages of the list, unfiltered and filtered by customer.
    op.create_index(
        "routes_active_page",
        "routes",
        [sa.text("tm_create DESC"), sa.text("id DESC")],
        schema=SCHEMA,
        postgresql_where=sa.text("tm_delete IS NULL"),
    )
    op.create_index(
        "routes_customer_page",
        "routes",
        ["customer_id", sa.text("tm_create DESC"), sa.text("id DESC")],
        schema=SCHEMA,
        postgresql_where=sa.text("tm_delete IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("routes", schema=SCHEMA)
