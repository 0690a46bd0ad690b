"""Where the tests' PostgreSQL and RabbitMQ are.

DATABASE_URL / AMQP_URL win when set. Unset, the local defaults are used when they answer;
otherwise, where Docker works, testcontainers starts throwaway ones.
"""

from __future__ import annotations

import os
import socket
import subprocess
from contextlib import ExitStack
from urllib.parse import urlsplit

from shared.settings import DEFAULT_AMQP_URL, DEFAULT_DATABASE_URL


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _docker_works() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def resolve_backends(stack: ExitStack) -> tuple[str, str]:
    """(database server URL, AMQP URL) for this test run."""
    db_url = os.environ.get("DATABASE_URL")
    amqp_url = os.environ.get("AMQP_URL")
    if db_url is None:
        db_url = DEFAULT_DATABASE_URL
        if not _answers(db_url, 5432) and _docker_works():
            from testcontainers.postgres import PostgresContainer

            pg = stack.enter_context(PostgresContainer("postgres:15", driver=None))
            db_url = pg.get_connection_url()
    if amqp_url is None:
        amqp_url = DEFAULT_AMQP_URL
        if not _answers(amqp_url, 5672) and _docker_works():
            from testcontainers.rabbitmq import RabbitMqContainer

            mq = stack.enter_context(RabbitMqContainer("rabbitmq:3.13"))
            amqp_url = (
                f"amqp://guest:guest@{mq.get_container_host_ip()}:{mq.get_exposed_port(5672)}/"
            )
    return db_url, amqp_url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()
