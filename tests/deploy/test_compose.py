"""deploy/: the compose file is accepted by Compose and runs every service with a healthcheck."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PLATFORM = {"provider-manager", "call-manager", "health-checker", "api-gateway"}


def _compose() -> list[str]:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy is None:
        pytest.fail(
            "neither `docker compose` nor docker-compose is installed (make install adds it)"
        )
    return [legacy]


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`compose config` of the deploy file under `env`."""
    return subprocess.run(
        [*_compose(), "-f", str(DEPLOY / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_compose_config_is_accepted_and_every_service_has_a_healthcheck() -> None:
    env = {**os.environ, "JWT_SECRET": "compose-check-secret"}
    result = _config(env)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert PLATFORM | {"postgres", "rabbitmq", "migrate"} <= set(services)
    for name in PLATFORM | {"postgres", "rabbitmq"}:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert services["api-gateway"]["environment"]["JWT_SECRET"] == "compose-check-secret"
    assert (DEPLOY / "Dockerfile").read_text().startswith("#")


def test_compose_refuses_to_run_without_a_jwt_secret() -> None:
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    result = _config(env)
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr


def test_compose_binds_sip_everywhere_and_advertises_the_public_ip() -> None:
    """A host behind 1:1 NAT: SIP_PUBLIC_IP becomes the advertised address of both SIP
    services; SIP and RTP ports are published as they are bound."""
    env = {**os.environ, "JWT_SECRET": "compose-check-secret", "SIP_PUBLIC_IP": "203.0.113.10"}
    result = _config(env)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    calls = services["call-manager"]["environment"]
    assert calls["CALL_MANAGER_SIP_HOST"] == "0.0.0.0"
    assert calls["CALL_MANAGER_SIP_PUBLIC_HOST"] == "203.0.113.10"
    low, high = int(calls["CALL_MANAGER_RTP_PORT_MIN"]), int(calls["CALL_MANAGER_RTP_PORT_MAX"])
    published = {
        (int(p["target"]), p.get("protocol", "tcp")) for p in services["call-manager"]["ports"]
    }
    assert {(5080, "udp"), (5080, "tcp"), (low, "udp"), (high, "udp")} <= published
    checker = services["health-checker"]["environment"]
    assert checker["HEALTH_CHECK_SIP_HOST"] == "0.0.0.0"
    assert checker["HEALTH_CHECK_SIP_PUBLIC_HOST"] == "203.0.113.10"
