from alembic import context
from call_manager.tables import metadata
from shared.migrations import run_env

run_env(context, metadata)
