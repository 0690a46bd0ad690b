"""The gateway's own surface on the shared gateway: its OpenAPI document, ops endpoints
(health, readiness, metrics) and logs. No fixtures of its own."""

from __future__ import annotations
