"""`python -m provider_manager [serve|migrate]`."""

from __future__ import annotations

import sys

from shared.logging import configure_logging
from shared.runtime import serve

from provider_manager.app import ProviderManagerApp, migrate
from provider_manager.settings import SERVICE, Settings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = Settings()
    configure_logging(SERVICE, settings.log_level)
    if command == "migrate":
        migrate(settings)
    elif command == "serve":
        serve(ProviderManagerApp(settings))
    else:
        sys.exit(f"usage: python -m provider_manager [serve|migrate], not {command!r}")


if __name__ == "__main__":
    main()
