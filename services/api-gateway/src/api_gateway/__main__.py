"""`python -m api_gateway [serve|migrate|account ...|accesskey ...]`."""

from __future__ import annotations

from shared.runtime import run_service

from api_gateway.app import GatewayApp, migrate
from api_gateway.cli import cli
from api_gateway.settings import SERVICE, Settings

# Account and key administration: the rest of the command line is theirs.
TOOLS = dict.fromkeys(("account", "accesskey", "password", "delete-account"), cli)


def main() -> None:
    run_service("api_gateway", SERVICE, Settings, GatewayApp, migrate, tools=TOOLS)


if __name__ == "__main__":
    main()
