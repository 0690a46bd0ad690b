from alembic import context
from health_checker.tables import metadata
from shared.migrations import run_env

run_env(context, metadata)
