"""Run every benchmark of segport, one after the other, at its default scale.

Run: .venv/bin/python bench/run_all.py [--only NAME ...]

Each script prints its own figures; bench/README.md records them with the machine they
were measured on. Expect several minutes: the profile store benchmark builds a
10,000,000-row CSV and the export benchmarks 1,000,000-profile workspaces. exports-postgres
and refresh-workers need PostgreSQL on 127.0.0.1:5432 (`--pg` on each script to move it).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "sandbox": ["sandbox_import.py"],
    "profiles": ["profiles_segments.py"],
    "contacts": ["contacts.py"],
    "exports": ["export_run.py"],
    # These two need PostgreSQL on 127.0.0.1:5432 (throwaway databases, dropped after).
    "exports-postgres": ["export_run_postgres.py"],
    "refresh-workers": ["refresh_workers.py"],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=sorted(SCRIPTS), default=None)
    args = ap.parse_args()
    failed = []
    for name in args.only or list(SCRIPTS):
        cmd = [sys.executable, str(HERE / SCRIPTS[name][0]), *SCRIPTS[name][1:]]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        if subprocess.run(cmd, check=False).returncode != 0:
            failed.append(name)
        print(f"=== {name}: {time.perf_counter() - start:.1f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
