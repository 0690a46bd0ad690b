"""deploy/k8s: every overlay renders, every manifest passes the Kubernetes schemas offline, and
the manifests agree with the services' own settings (names, ports, probes, secrets)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from api_gateway.settings import Settings as GatewaySettings
from call_manager.settings import Settings as CallManagerSettings
from health_checker.settings import Settings as HealthCheckerSettings
from provider_manager.settings import Settings as ProviderManagerSettings
from pydantic_settings import BaseSettings

from scripts.render_k8s import RenderError, containers, render

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"

KUBERNETES_VERSION = "1.31"
OVERLAYS = ["dev", "production"]
SERVICES: dict[str, tuple[str, type[BaseSettings]]] = {
    "api-gateway": ("api_gateway", GatewaySettings),
    "provider-manager": ("provider_manager", ProviderManagerSettings),
    "call-manager": ("call_manager", CallManagerSettings),
    "health-checker": ("health_checker", HealthCheckerSettings),
}
SECRET_KEYS = {
    "DATABASE_URL",
    "AMQP_URL",
    "JWT_SECRET",
    "PROVIDER_CREDENTIALS_KEY",
    "ADMIN_PASSWORD",
}
# Variables the manifests define only to compose others ($(NODE_IP) and so on).
HELPER_VARIABLES = {"NODE_IP", "POD_NAME"}

# The Prometheus Operator's CRD schema is not in kubernetes-validate: check the fields we use.
SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {
                    "type": "object",
                    "properties": {
                        "matchLabels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        }
                    },
                    "additionalProperties": False,
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["port"],
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m)$"},
                            "scrapeTimeout": {"type": "string", "pattern": "^[0-9]+(ms|s|m)$"},
                        },
                    },
                },
            },
        },
    },
}


def rendered(overlay: str) -> list[dict[str, Any]]:
    return render(K8S / "overlays" / overlay)


def by_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def setting_names(settings: type[BaseSettings]) -> set[str]:
    return {str(f.validation_alias) for f in settings.model_fields.values() if f.validation_alias}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_passes_the_kubernetes_schemas(overlay: str) -> None:
    manifests = rendered(overlay)
    checked = 0
    for manifest in manifests:
        if manifest["kind"] == "ServiceMonitor":
            jsonschema.validate(manifest, SERVICE_MONITOR_SCHEMA)
        else:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked == len(manifests) >= 18
    namespaces = {m["metadata"].get("namespace") for m in manifests}
    assert namespaces == {"sip-trunk-dev" if overlay == "dev" else "sip-trunk"}


def test_the_schema_check_catches_a_misspelt_field() -> None:
    deployment = by_kind(rendered("dev"), "Deployment")["provider-manager"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    monitor = by_kind(rendered("dev"), "ServiceMonitor")["sip-trunk-platform"]
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(monitor, SERVICE_MONITOR_SCHEMA)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_probes_its_own_ops_port_and_sets_only_real_settings(overlay: str) -> None:
    deployments = by_kind(rendered(overlay), "Deployment")
    assert set(deployments) == set(SERVICES)
    for service, (package, settings) in SERVICES.items():
        pod = deployments[service]["spec"]["template"]["spec"]
        [main] = pod["containers"]
        assert main["args"] == [package, "serve"]
        [migrate] = pod["initContainers"]
        assert migrate["args"] == [package, "migrate"]
        ops_setting = settings.model_fields["ops_port"].validation_alias
        env = env_of(main)
        ports = {p["name"]: p["containerPort"] for p in main["ports"]}
        assert int(env[str(ops_setting)]["value"]) == ports["ops"]
        assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
        assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
        known = setting_names(settings) | HELPER_VARIABLES
        unknown = set(env) - known
        assert not unknown, f"{service} sets variables no setting reads: {unknown}"
        config = by_kind(rendered(overlay), "ConfigMap")["platform-config"]["data"]
        assert set(config) <= setting_names(settings)
        assert config["OPS_HOST"] == "0.0.0.0"
        for container in (main, migrate):
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"])
            assert "memory" in resources["limits"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_reach_only_the_services_that_need_them(overlay: str) -> None:
    manifests = rendered(overlay)
    wanted: dict[str, set[str]] = {}
    for manifest in manifests:
        for container in containers(manifest):
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    continue
                assert ref["name"] == "platform-secrets"
                assert item["name"] == ref["key"] and ref["key"] in SECRET_KEYS
                wanted.setdefault(ref["key"], set()).add(manifest["metadata"]["name"])
            assert "value" not in env_of(container).get("JWT_SECRET", {})
    assert wanted["JWT_SECRET"] == {"api-gateway"}
    assert wanted["ADMIN_PASSWORD"] == {"api-gateway"}
    assert wanted["PROVIDER_CREDENTIALS_KEY"] == {"provider-manager"}
    assert wanted["DATABASE_URL"] == set(SERVICES) | {"migrate"}
    assert wanted["AMQP_URL"] == set(SERVICES)
    secrets = by_kind(manifests, "Secret")
    if overlay == "dev":
        assert set(secrets["platform-secrets"]["stringData"]) == SECRET_KEYS
    else:  # production brings its own Secret; nothing secret is committed for it
        assert secrets == {}


def test_every_deployment_has_a_disruption_budget_and_a_scraped_ops_service() -> None:
    manifests = rendered("production")
    deployments = by_kind(manifests, "Deployment")
    budgets = by_kind(manifests, "PodDisruptionBudget")
    services = by_kind(manifests, "Service")
    [monitor] = by_kind(manifests, "ServiceMonitor").values()
    selector = monitor["spec"]["selector"]["matchLabels"]
    scraped = {
        name
        for name, svc in services.items()
        if selector.items() <= svc["metadata"]["labels"].items()
    }
    assert scraped == {f"{name}-ops" for name in SERVICES}
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        budget = budgets[name]["spec"]
        assert budget["selector"]["matchLabels"].items() <= labels.items()
        assert budget.get("maxUnavailable") == 1
        ops = services[f"{name}-ops"]["spec"]
        assert ops["selector"].items() <= labels.items()
        assert [p["name"] for p in ops["ports"]] == ["ops"]
    assert {n: d["spec"]["replicas"] for n, d in deployments.items()} == {
        "api-gateway": 3,
        "provider-manager": 3,
        "health-checker": 2,
        "call-manager": 2,
    }
    images = {c["image"] for m in manifests for c in containers(m)}
    assert images == {"registry.example.com/voip/sip-trunk-platform:0.1.0"}
    gateway = services["api-gateway"]["spec"]
    assert gateway["ports"][0]["targetPort"] == "http"


def test_the_migration_job_migrates_every_service_before_they_start() -> None:
    job = by_kind(rendered("production"), "Job")["migrate"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    script = " ".join(container["args"])
    for package, _ in SERVICES.values():
        assert package in script
    assert "migrate" in script and "exit 1" in script
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"


def test_call_manager_runs_on_the_host_network_and_advertises_the_node_address() -> None:
    deployment = by_kind(rendered("production"), "Deployment")["call-manager"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    assert pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    [term] = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    env = env_of(pod["containers"][0])
    assert env["NODE_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
    assert env["CALL_MANAGER_SIP_PUBLIC_HOST"]["value"] == "$(NODE_IP)"
    assert env["CALL_MANAGER_REPLICA_ID"]["value"] == "$(POD_NAME)"
    # Kubernetes only expands $(VAR) defined earlier in the list.
    names = [item["name"] for item in pod["containers"][0]["env"]]
    assert names.index("NODE_IP") < names.index("CALL_MANAGER_SIP_PUBLIC_HOST")
    sip_port = int(env["CALL_MANAGER_SIP_PORT"]["value"])
    ports = {(p["containerPort"], p["protocol"]) for p in pod["containers"][0]["ports"]}
    assert {(sip_port, "UDP"), (sip_port, "TCP")} <= ports
    low, high = (int(env[f"CALL_MANAGER_RTP_PORT_{b}"]["value"]) for b in ("MIN", "MAX"))
    assert 1024 < low < high <= 65535
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": [], "configMapGenerator": [{"name": "x"}]})
    )
    with pytest.raises(RenderError, match="configMapGenerator"):
        render(tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [str(K8S / "base")],
                "patches": [{"target": {"kind": "Service", "name": "nope"}, "patch": "[]"}],
            }
        )
    )
    with pytest.raises(RenderError, match="matches nothing"):
        render(tmp_path)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_renderer_agrees_with_kubectl_kustomize(overlay: str) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the pure-Python renderer stands alone")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    theirs = {(m["kind"], m["metadata"]["name"]): m for m in yaml.safe_load_all(result.stdout)}
    ours = {(m["kind"], m["metadata"]["name"]): m for m in rendered(overlay)}
    assert ours == theirs
