"""The multi-replica fault suite's own checks (`make chaos` runs the suite: tests/chaos/run.py).
No fixtures of its own."""

from __future__ import annotations
