"""One system refresh firing 20 exports of 50,000 members each: time until all 20 runs are
successful, with one `segport worker` and with two.

Run: .venv/bin/python bench/refresh_workers.py [--members 50000] [--exports 20]
     [--setups sqlite,pg1,pg2] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
     [--workdir DIR]

Setups, each on a fresh workspace and a fresh sandbox process (rate limits off):
  sqlite  SQLite metadata, the embedded DuckDB profile store, 1 worker;
  pg1     PostgreSQL metadata and profiles loaded with --into (throwaway databases), 1 worker;
  pg2     the same as pg1 with 2 worker processes, the second in a folder of its own that
          joined the workspace (`segport init --join`): they share only PostgreSQL, and
          the runs go through procrastinate's queue.
Setup (not timed): 20 x 50,000 profiles with a `bucket` column 0..19, 20 segments
`bucket = k`, one connection, 20 exports each into its own list, all on the system
schedule (the default). The workers are started (`segport worker --poll 0.2 --now T`, T a
day ahead so any firing set later is due) while the schedule is still unset, so they
idle; the clock starts when the bench sets the system schedule, and stops when all 20 runs
are `successful`. Then every list is checked to hold exactly 50,000 contacts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_run import KEY, PY, ROOT, free_port, start_sandbox, wait_up
from segport.service.access import actor_named

SETUPS = {"sqlite": (False, 1), "pg1": (True, 1), "pg2": (True, 2)}


def write_profiles(path: Path, rows: int, buckets: int) -> None:
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
          SELECT i AS customer_id,
                 'user' || i || '@example' || (i % 97) || '.com' AS email,
                 'First' || (i % 9973) AS first_name,
                 ['Smith', 'Nguyen', 'Müller', 'García', 'Lee'][i % 5 + 1] AS last_name,
                 (i % {buckets})::INTEGER AS bucket
          FROM range({rows}) t(i)
        ) TO '{path}' (FORMAT parquet)
        """
    )
    con.close()


def make_database(pg: str, label: str) -> str:
    import psycopg

    name = f"segport_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg.rsplit("/", 1)[0] + "/" + name


def drop_database(pg: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(
    ws_path: Path,
    data: Path,
    base: str,
    lists: list[int],
    meta_url: str | None,
    into: str | None,
) -> None:
    """The workspace: profiles, one segment and one export per list, on the system schedule."""
    from segport.exports.config import ExportConfig, ExportMapping
    from segport.service import connections
    from segport.service.export_configs import add_export
    from segport.service.opening import init_workspace
    from segport.service.profile_source import load_profiles
    from segport.service.segment_definitions import create_segment

    ws = init_workspace(ws_path, meta_url)
    admin = actor_named(ws, None)
    load_profiles(ws, admin, data, id_column="customer_id", replace=True, into=into)
    connections.add_connection(
        ws, admin, "bench", "brevo", KEY, agree_privacy=True, base_url=base, verify=True
    )
    mapping = ExportMapping(email="email", first_name="first_name", last_name="last_name")
    for k, list_id in enumerate(lists):
        create_segment(ws, admin, f"bucket{k}", where=f"bucket = {k}")
        config = ExportConfig(
            name=f"export{k:02}",
            connection="bench",
            list_id=list_id,
            segments=(f"bucket{k}",),
            mapping=mapping,
        )
        add_export(ws, admin, config)
    ws.close()


def runs_of(ws: Any) -> list[Any]:
    from sqlalchemy import select

    from segport.service.run_model import Run

    with ws.session() as session:
        return list(session.scalars(select(Run).order_by(Run.id)))


def measure(folders: list[Path], exports: int, logs: Path) -> dict[str, Any]:
    """Start a worker in each folder, fire the refresh, wait for every run to be
    successful."""
    from segport.service.opening import open_workspace
    from segport.service.system_schedule import set_system_schedule
    from segport.service.workers import list_workers

    ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    ws_path, workers = folders[0], len(folders)
    procs = []
    for w, folder in enumerate(folders):
        cmd = [PY, "-m", "segport", "--workspace", str(folder), "worker", "--poll", "0.2"]
        with (logs / f"worker{w}.log").open("wb") as err:
            procs.append(
                subprocess.Popen([*cmd, "--now", ahead], stdout=subprocess.DEVNULL, stderr=err)
            )
    ws = open_workspace(ws_path)
    admin = actor_named(ws, None)
    try:
        while len(list_workers(ws, admin)) < workers:
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a worker exited; see {logs}")
            time.sleep(0.1)
        load = os.getloadavg()
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        cpu0 = os.times()
        set_system_schedule(ws, admin, times=["12:00"], timezone="UTC")
        while True:
            runs = runs_of(ws)
            bad = [r for r in runs if r.status not in ("queued", "processing", "successful")]
            if bad:
                raise SystemExit(f"run {bad[0].id} ended {bad[0].status}: {bad[0].message}")
            if len(runs) == exports and all(r.status == "successful" for r in runs):
                break
            time.sleep(0.1)
        wall = time.perf_counter() - t0
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        ws.close()
    cpu1 = os.times()  # the workers are the only children reaped since cpu0
    queued = max(r.created_at for r in runs)
    spans = [(r.finished_at - r.started_at).total_seconds() for r in runs]
    return {
        "wall_s": wall,
        "refresh_s": (queued - started).total_seconds(),
        "first_start_s": (min(r.started_at for r in runs) - started).total_seconds(),
        "run_s": (min(spans), sorted(spans)[len(spans) // 2], max(spans)),
        "per_worker": sorted(Counter(r.claimed_by for r in runs).values(), reverse=True),
        # The workers' whole lives, idle start included (about 1 s each).
        "workers_cpu_s": (cpu1.children_user + cpu1.children_system)
        - (cpu0.children_user + cpu0.children_system),
        "load": load,
    }


def sandbox_cpu(pid: int) -> float:
    """CPU seconds of a live process (Linux /proc; utime + stime in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_setup(name: str, args: argparse.Namespace, data: Path, work: Path) -> dict[str, Any]:
    from segport.brevo import BrevoClient

    on_pg, workers = SETUPS[name]
    dbs: list[str] = []
    port = free_port()
    base = f"http://127.0.0.1:{port}/v3"
    sandbox = start_sandbox(port)
    try:
        wait_up(base)
        with BrevoClient(KEY, base) as client:
            folder = client.create_folder("bench")
            lists = [client.create_list(f"list{k:02}", folder) for k in range(args.exports)]
        meta = into = None
        if on_pg:
            meta = make_database(args.pg, "meta")
            dbs.append(meta)
            into = make_database(args.pg, "profiles")
            dbs.append(into)
        ws_path = work / name
        build(ws_path, data, base, lists, meta, into)
        logs = work / f"{name}-logs"
        logs.mkdir()
        folders = [ws_path]
        for w in range(1, workers):  # each other worker in a folder of its own
            folders.append(work / f"{name}-join{w}")
            subprocess.run(
                [PY, "-m", "segport", "--workspace", str(folders[-1]), "init", "--join",
                 "--database-url", str(meta), "--secret-key-file", str(ws_path / "secret.key")],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        cpu = sandbox_cpu(sandbox.pid)
        result = measure(folders, args.exports, logs)
        result["sandbox_cpu_s"] = sandbox_cpu(sandbox.pid) - cpu
        with BrevoClient(KEY, base) as client:
            counts = [client.list_contacts(i, limit=1).count for i in lists]
        if any(c != args.members for c in counts):
            raise SystemExit(f"{name}: lists hold {counts}, expected {args.members} each")
        result["lists_ok"] = len(counts)
        return result
    finally:
        sandbox.terminate()
        sandbox.wait()
        for url in dbs:
            drop_database(args.pg, url)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=50_000)
    ap.add_argument("--exports", type=int, default=20)
    ap.add_argument("--setups", default="sqlite,pg1,pg2")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    setups = args.setups.split(",")
    if unknown := [s for s in setups if s not in SETUPS]:
        raise SystemExit(f"--setups: unknown {unknown}; choose from {', '.join(SETUPS)}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="segport-bench-refresh-"))
    work.mkdir(parents=True, exist_ok=True)
    # Bytecode for segport's modules, as an installed package has (see export_run.py).
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    data = work / "profiles.parquet"
    write_profiles(data, args.members * args.exports, args.exports)
    print(
        f"{args.exports} exports x {args.members:,} members, {os.cpu_count()} cores",
        flush=True,
    )
    header = (
        "| setup | workers | load (1/5/15 min) | refresh fired -> all successful | "
        f"refresh ({args.exports} segments counted, runs queued) | "
        "one run: min / median / max | runs per worker | CPU: workers, sandbox |"
    )
    rows = []
    for name in setups:
        r = one_setup(name, args, data, work)
        lo = r["run_s"]
        row = (
            f"| {name} | {SETUPS[name][1]} | {' / '.join(f'{x:.1f}' for x in r['load'])} | "
            f"**{r['wall_s']:.1f} s** | {r['refresh_s']:.2f} s | "
            f"{lo[0]:.1f} / {lo[1]:.1f} / {lo[2]:.1f} s | "
            f"{' + '.join(map(str, r['per_worker']))} | "
            f"{r['workers_cpu_s']:.1f} s, {r['sandbox_cpu_s']:.1f} s |"
        )
        print(row, f"(all {r['lists_ok']} lists hold {args.members:,})", flush=True)
        rows.append(row)
    print("\n" + header + "\n|" + " --- |" * 8)
    print("\n".join(rows))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
