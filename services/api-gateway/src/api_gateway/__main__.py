"""`python -m api_gateway [serve|migrate|account ...|accesskey ...]`."""

from __future__ import annotations

import sys

from shared.logging import configure_logging
from shared.runtime import serve

from api_gateway.app import GatewayApp, migrate
from api_gateway.cli import cli
from api_gateway.settings import SERVICE, Settings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = Settings()
    if command in ("account", "accesskey", "password", "delete-account"):
        cli(sys.argv[1:])
        return
    configure_logging(SERVICE, settings.log_level)
    if command == "migrate":
        migrate(settings)
    elif command == "serve":
        serve(GatewayApp(settings))
    else:
        sys.exit(
            "usage: python -m api_gateway "
            f"[serve|migrate|account|accesskey|password|delete-account], not {command!r}"
        )


if __name__ == "__main__":
    main()
