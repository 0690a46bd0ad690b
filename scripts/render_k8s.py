"""Render a kustomization of deploy/k8s without kustomize or kubectl.

    python scripts/render_k8s.py deploy/k8s/overlays/production > platform.yaml

Only what deploy/k8s uses is supported, and anything else is refused rather than ignored:
`resources` (files and kustomization folders), `namespace`, `images`, `replicas` and
`patches` whose patch is a JSON 6902 list (add / replace / remove) aimed at a kind and an
optional name. The test suite compares the output with `kubectl kustomize` where kubectl is
installed, so this stays a faithful subset.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
# Kinds that live outside namespaces (none of ours today; kept so `namespace` stays correct).
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}


class RenderError(ValueError):
    pass


def render(directory: Path) -> list[Manifest]:
    """Every manifest the kustomization in `directory` produces, in resource order."""
    path = directory / "kustomization.yaml"
    if not path.is_file():
        raise RenderError(f"{directory}: no kustomization.yaml")
    spec = yaml.safe_load(path.read_text()) or {}
    unknown = set(spec) - KNOWN_FIELDS
    if unknown:
        raise RenderError(f"{path}: unsupported fields {sorted(unknown)}")
    manifests: list[Manifest] = []
    for entry in spec.get("resources", []):
        target = (directory / entry).resolve()
        if target.is_dir():
            manifests.extend(render(target))
        elif target.is_file():
            manifests.extend(_load(target))
        else:
            raise RenderError(f"{path}: resource {entry!r} does not exist")
    _check_unique(manifests, path)
    for patch in spec.get("patches", []):
        _apply_patch(manifests, patch, path)
    for item in spec.get("replicas", []):
        _set_replicas(manifests, item, path)
    for image in spec.get("images", []):
        _set_image(manifests, image)
    if "namespace" in spec:
        for manifest in manifests:
            if manifest["kind"] not in CLUSTER_SCOPED:
                manifest["metadata"]["namespace"] = spec["namespace"]
    return manifests


def _load(path: Path) -> list[Manifest]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for doc in docs:
        if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= set(doc):
            raise RenderError(f"{path}: every document needs apiVersion, kind and metadata")
    return docs


def _check_unique(manifests: list[Manifest], path: Path) -> None:
    seen: set[tuple[str, str]] = set()
    for manifest in manifests:
        key = (manifest["kind"], manifest["metadata"]["name"])
        if key in seen:
            raise RenderError(f"{path}: {key[0]}/{key[1]} is defined twice")
        seen.add(key)


def _targets(manifests: list[Manifest], target: dict[str, Any]) -> list[Manifest]:
    extra = set(target) - {"kind", "name"}
    if extra:
        raise RenderError(f"patch target fields {sorted(extra)} are not supported")
    return [
        m
        for m in manifests
        if m["kind"] == target.get("kind", m["kind"])
        and m["metadata"]["name"] == target.get("name", m["metadata"]["name"])
    ]


def _apply_patch(manifests: list[Manifest], patch: dict[str, Any], path: Path) -> None:
    if set(patch) != {"target", "patch"}:
        raise RenderError(f"{path}: a patch needs exactly `target` and an inline `patch`")
    operations = yaml.safe_load(patch["patch"])
    if not isinstance(operations, list):
        raise RenderError(f"{path}: only JSON 6902 patches (a list of operations) are supported")
    matched = _targets(manifests, patch["target"])
    if not matched:
        raise RenderError(f"{path}: patch target {patch['target']} matches nothing")
    for manifest in matched:
        for operation in operations:
            _json6902(manifest, operation)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise RenderError(f"bad JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _json6902(document: Manifest, operation: dict[str, Any]) -> None:
    op = operation.get("op")
    *parents, last = _pointer(str(operation.get("path", "")))
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if op == "remove":
        if isinstance(node, list):
            del node[int(last)]
        elif last in node:
            del node[last]
        else:
            raise RenderError(f"remove: {operation['path']} does not exist")
    elif op in ("add", "replace"):
        value = copy.deepcopy(operation["value"])
        if isinstance(node, list):
            if op == "add":
                node.insert(len(node) if last == "-" else int(last), value)
            else:
                node[int(last)] = value
        else:
            if op == "replace" and last not in node:
                raise RenderError(f"replace: {operation['path']} does not exist")
            node[last] = value
    else:
        raise RenderError(f"JSON 6902 op {op!r} is not supported")


def _set_replicas(manifests: list[Manifest], item: dict[str, Any], path: Path) -> None:
    matched = [
        m
        for m in manifests
        if m["kind"] in WORKLOAD_KINDS and m["metadata"]["name"] == item["name"]
    ]
    if not matched:
        raise RenderError(f"{path}: replicas for unknown workload {item['name']!r}")
    for manifest in matched:
        manifest["spec"]["replicas"] = int(item["count"])


def containers(manifest: Manifest) -> Iterator[dict[str, Any]]:
    """Every container and init container of a workload or Job."""
    template = manifest.get("spec", {}).get("template", {}).get("spec", {})
    yield from template.get("initContainers", [])
    yield from template.get("containers", [])


def _set_image(manifests: list[Manifest], image: dict[str, Any]) -> None:
    for manifest in manifests:
        for container in containers(manifest):
            ref = str(container.get("image", ""))
            name, tag = _split_image(ref)
            if name != image["name"]:
                continue
            new_name = image.get("newName", name)
            new_tag = image.get("newTag", tag)
            container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name


def _split_image(ref: str) -> tuple[str, str]:
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = ref.rpartition(":")
        return name, tag
    return ref, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("directory", type=Path, help="a folder holding kustomization.yaml")
    args = parser.parse_args()
    try:
        manifests = render(args.directory)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(yaml.safe_dump_all(manifests, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
