from alembic import context
from api_gateway.tables import metadata
from shared.migrations import run_env

run_env(context, metadata)
