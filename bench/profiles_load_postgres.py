"""`profiles load` of a 1,000,000-profile CSV into the embedded DuckDB store and into a
PostgreSQL store segport manages (`--into postgresql://...`): time and peak RSS.

Run: .venv/bin/python bench/profiles_load_postgres.py [--rows 1000000]
     [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--dir /tmp/segport-bench-pg]

The CSV (the 7 columns of bench/profiles_segments.py) is written by DuckDB before any clock
starts. Each store is loaded by a process of its own (so each peak RSS is that load's):
a first load, then a reload of the same file with --replace (the PostgreSQL one swaps the
table). PostgreSQL's own CPU is not in the figures; the database is a throwaway one,
dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb


def write_csv(path: Path, rows: int) -> None:
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
          SELECT i AS customer_id,
                 'user' || i || '@example.com' AS email,
                 'First' || (i % 9973) AS first_name,
                 ['GB', 'FR', 'DE', 'US', 'ES'][i % 5 + 1] AS country,
                 (hash(i) % 1000)::INTEGER AS lifetime_value,
                 DATE '2026-01-01' - (hash(i * 7) % 730)::INTEGER AS last_purchase,
                 i % 10 = 0 AS is_vip
          FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )
    con.close()


def child(csv: Path, ws_path: Path, into: str | None) -> None:
    """One store's loads, timed in this process; prints a JSON line."""
    from segport.service.access import actor_named
    from segport.service.opening import init_workspace
    from segport.service.profile_source import load_profiles

    ws = init_workspace(ws_path)
    admin = actor_named(ws, None)
    times, cpu = [], []
    for replace in (False, True):
        t, c = time.perf_counter(), time.process_time()
        report = load_profiles(ws, admin, csv, replace=replace, into=into)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        assert report.rows > 0 and report.problems.total == 0
    ws.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"rows": report.rows, "seconds": times, "cpu": cpu, "rss_mb": rss_mb}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/segport-bench-pg"))
    ap.add_argument("--child", nargs=3, metavar=("CSV", "WS", "INTO"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        csv, ws, into = args.child
        child(Path(csv), Path(ws), None if into == "embedded" else into)
        return
    import psycopg

    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    csv = args.dir / "profiles.csv"
    write_csv(csv, args.rows)
    name = f"segport_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = args.pg.rsplit("/", 1)[0] + "/" + name
    print(f"{args.rows:,} profiles, {csv.stat().st_size / 1e6:.0f} MB CSV, load {os.getloadavg()}")
    try:
        for label, into in (("embedded", "embedded"), ("postgresql", target)):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(csv), str(args.dir / label), into],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            first, reload = r["seconds"]
            print(
                f"{label:10} first load {first:5.1f} s ({r['rows'] / first:,.0f} rows/s, "
                f"CPU {r['cpu'][0]:.1f} s)  reload --replace {reload:5.1f} s "
                f"(CPU {r['cpu'][1]:.1f} s)  peak RSS {r['rss_mb']:,.0f} MB"
            )
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
