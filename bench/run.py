"""Run every benchmark in turn (``make bench``); each prints its own figures and ratios to a floor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = (
    "validation_bench.py",
    "as4_bench.py",
    "discovery_bench.py",
    "render_bench.py",
    "e2e_bench.py",
    "distribution_bench.py",
    "payments_bench.py",
)


def main() -> int:
    failed = 0
    for name in BENCHES:
        print(f"\n=== {name} ===", flush=True)
        failed |= subprocess.run([sys.executable, str(HERE / name), *sys.argv[1:]], check=False).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main())
