"""admit_calls(): a customer's fair-share counts and verified caller IDs in one round trip

POST /calls locked the customer, then counted its calls: two statements, as one statement's
snapshot is taken before it waits for the lock and would miss calls committed meanwhile. In
a PL/pgSQL function each statement takes its own snapshot, so the counts after the lock see
them, and the call costs one round trip; the customer's caller IDs come along with it.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "call_manager"


def upgrade() -> None:
    # The lock key is the customer id as given (text), the same as before this function.
    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.admit_calls(customer text, rate_window float8)
        RETURNS TABLE (live_calls bigint, recent_calls bigint, patterns text[])
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(
                hashtextextended('call-manager/customer/' || customer, 0));
            RETURN QUERY SELECT
                (SELECT count(*) FROM {SCHEMA}.calls c
                  WHERE c.customer_id = CAST(customer AS uuid) AND c.status <> 'hangup'),
                (SELECT count(*) FROM {SCHEMA}.calls c
                  WHERE c.customer_id = CAST(customer AS uuid)
                    AND c.tm_create > clock_timestamp() - make_interval(secs => rate_window)),
                ARRAY(SELECT i.pattern::text FROM {SCHEMA}.caller_ids i
                       WHERE i.customer_id = CAST(customer AS uuid));
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SCHEMA}.admit_calls(text, float8)")
