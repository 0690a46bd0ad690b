"""Run one fuzz target under atheris: `python shared/fuzz/run.py sip|sdp [libFuzzer flags]`.

Seeds come from seeds/<target>/ (real messages, never written to); the inputs atheris finds
go to a scratch corpus in a temporary directory. Exit status 0: no finding.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from targets import TARGETS  # type: ignore[import-not-found,unused-ignore]

SEEDS = Path(__file__).parent / "seeds"


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: run.py {'|'.join(TARGETS)} [libFuzzer flags]")
    name = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as corpus:
        # libFuzzer writes new inputs to the first corpus directory: the scratch one
        args = [sys.argv[0], *sys.argv[2:], corpus, str(SEEDS / name)]
        atheris.Setup(args, TARGETS[name])
        atheris.Fuzz()


if __name__ == "__main__":
    main()
