"""What resuming a crashed run costs now that it re-plans instead of replaying its plan.

Run: .venv/bin/python bench/export_resume.py [--profiles 1000000] [--changed 0.01]
     [--kill-at submitted:4] [--workdir DIR]

Setup as bench/export_run.py (profiles, sandbox in its own process, workspace, export).
Then, each as a fresh `segport exports run` process:
  1. the first run, killed (SIGKILL, through the SEGPORT_TEST_KILL_AT seam) after the
     chunk named by --kill-at was checkpointed: the crash;
  2. --changed of the profiles change their first name and are loaded again;
  3. timed: `exports run --dry-run` (settles the crashed run's chunks, plans);
  4. timed: the resumed run (plans afresh against the changed profiles, sends the rest).
The resumed run's plan stages (count, read, prepare, plan) are the cost of re-planning:
the prepared-contacts cache filled before the crash spares preparing the members again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_run import (
    KEY,
    PY,
    ROOT,
    free_port,
    make_workspace,
    profiles,
    start_sandbox,
    timed,
    wait_up,
)
from segport.service.access import actor_named

PLAN_STAGES = ("count", "read", "prepare", "plan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profiles", type=int, default=1_000_000)
    ap.add_argument("--changed", type=float, default=0.01)
    ap.add_argument("--kill-at", default="submitted:4")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="segport-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n = args.profiles

    from segport.brevo import BrevoClient
    from segport.service.opening import open_workspace
    from segport.service.profile_source import load_profiles

    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    table = profiles(n)
    data = work / "profiles.parquet"
    pq.write_table(table, data)
    port = free_port()
    base = f"http://127.0.0.1:{port}/v3"
    sandbox = start_sandbox(port)
    try:
        wait_up(base)
        with BrevoClient(KEY, base) as client:
            list_id = client.create_list("segport", client.create_folder("bench"))
        ws_path = work / "ws"
        run = make_workspace(ws_path, data, base, list_id)
        crash = subprocess.run(
            run, env={**os.environ, "SEGPORT_TEST_KILL_AT": args.kill_at}, capture_output=True
        )
        print(f"first run killed at {args.kill_at}: exit {crash.returncode}", flush=True)

        r = random.Random(1)
        names = table.column("first_name").to_pylist()
        for i in r.sample(range(n), int(n * args.changed)):
            names[i] = names[i] + "x"
        pq.write_table(table.set_column(2, "first_name", pa.array(names)), data)
        ws = open_workspace(ws_path)
        load_profiles(ws, actor_named(ws, None), data, id_column="customer_id", replace=True)
        ws.close()

        for label, cmd in (("dry run", [*run, "--dry-run"]), ("resumed run", run)):
            load = os.getloadavg()[0]
            wall, _, out = timed(cmd)
            s = json.loads(out)
            stages = s["stage_seconds"]
            planning = sum(stages.get(k, 0.0) for k in PLAN_STAGES)
            each = ", ".join(f"{k} {stages.get(k, 0.0):.2f}" for k in PLAN_STAGES)
            print(
                f"{label} (load {load:.1f}): {wall:.2f} s wall, re-planning {planning:.2f} s "
                f"({each}); "
                f"status {s['status']}, resumed {s['resumed']}, new {s['new']:,}, "
                f"changed {s['changed']:,}, sent {s['sent']:,}",
                flush=True,
            )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
