"""`python -m health_checker [serve|migrate]`."""

from __future__ import annotations

import sys

from shared.logging import configure_logging
from shared.runtime import serve

from health_checker.app import HealthCheckerApp, migrate
from health_checker.gc_tuning import tune_gc
from health_checker.settings import SERVICE, Settings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = Settings()
    configure_logging(SERVICE, settings.log_level)
    if command == "migrate":
        migrate(settings)
    elif command == "serve":
        tune_gc()  # process-wide, so here and not in the app (tests run apps in-process)
        serve(HealthCheckerApp(settings))
    else:
        sys.exit(f"usage: python -m health_checker [serve|migrate], not {command!r}")


if __name__ == "__main__":
    main()
