"""A database outage and recovery (restarts the local PostgreSQL: the coordinator runs it,
not `make test` on a shared machine). No fixtures of its own."""

from __future__ import annotations
