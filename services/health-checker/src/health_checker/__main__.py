"""`python -m health_checker [serve|migrate]`."""

from __future__ import annotations

from shared.runtime import run_service

from health_checker.app import HealthCheckerApp, migrate
from health_checker.settings import SERVICE, Settings


def main() -> None:
    run_service(
        "health_checker",
        SERVICE,
        Settings,
        HealthCheckerApp,
        migrate,
    )


if __name__ == "__main__":
    main()
