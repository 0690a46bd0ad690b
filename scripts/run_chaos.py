"""`make chaos`: the multi-replica fault suite (tests/chaos/run.py says what it does)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos.run import main

if __name__ == "__main__":
    sys.exit(main())
