"""The deploy files: docker-compose and the Kubernetes manifests, checked without a cluster.
No fixtures of its own."""

from __future__ import annotations
