"""`python -m call_manager [serve|migrate]`."""

from __future__ import annotations

from shared.runtime import run_service

from call_manager.app import CallManagerApp, migrate
from call_manager.settings import SERVICE, Settings


def main() -> None:
    run_service("call_manager", SERVICE, Settings, CallManagerApp, migrate)


if __name__ == "__main__":
    main()
