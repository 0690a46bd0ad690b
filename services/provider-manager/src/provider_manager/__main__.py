"""`python -m provider_manager [serve|migrate]`."""

from __future__ import annotations

from shared.runtime import run_service

from provider_manager.app import ProviderManagerApp, migrate
from provider_manager.settings import SERVICE, Settings


def main() -> None:
    run_service("provider_manager", SERVICE, Settings, ProviderManagerApp, migrate)


if __name__ == "__main__":
    main()
