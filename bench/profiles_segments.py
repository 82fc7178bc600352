"""Profile store and segments at scale: load a 10M-profile CSV, count a three-condition
segment, stream a ~1M-member segment out as Arrow batches.

Run: .venv/bin/python bench/profiles_segments.py [--rows 10000000] [--dir /tmp/segport-bench]
     [--keep]

The CSV is written by DuckDB before any clock starts. Everything timed goes through the
same code the CLI uses: `load_profiles` (UTF-8 check, DuckDB read with rejects, id checks,
swap), and `count_members` / `stream_members` on a segment created with `create_segment`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from segport.profiles import open_profile_store
from segport.segments import count_members, stream_members
from segport.segments.compiler import compile_rule
from segport.segments.expression import parse_expression
from segport.service.access import actor_named
from segport.service.opening import init_workspace
from segport.service.profile_source import load_profiles
from segport.service.segment_definitions import create_segment

THREE_CONDITIONS = (
    "country = 'GB' and lifetime_value > 100 and last_purchase >= today() - interval 30 days"
)
# Two ~1M-member segments of the 10M: scattered over the whole table (every row group holds
# members, so DuckDB decompresses the string columns of all 10M rows), and contiguous.
SCATTERED = "country = 'GB' and lifetime_value >= 500"  # 20 % x 50 % of the profiles
CONTIGUOUS = "customer_id < 1000000"
COLUMNS = ["email", "first_name", "country"]


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
                 current_date - (hash(i * 7) % 730)::INTEGER AS last_purchase,
                 i % 10 = 0 AS is_vip
          FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )
    con.close()


def median_time(fn: object, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/segport-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the CSV and workspace")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    csv = args.dir / "profiles.csv"

    t = time.perf_counter()
    write_csv(csv, args.rows)
    size_mb = csv.stat().st_size / 1e6
    print(f"wrote {args.rows:,} rows, {size_mb:,.0f} MB CSV in {time.perf_counter() - t:.1f} s")

    ws = init_workspace(args.dir / "ws")
    report = load_profiles(ws, actor_named(ws, None), csv)
    print(
        f"load: {report.rows:,} profiles in {report.seconds:.1f} s "
        f"({report.rows / report.seconds:,.0f} rows/s, {report.rejected_total} rejected)"
    )

    create_segment(ws, actor_named(ws, None), "three", where=THREE_CONDITIONS)
    create_segment(ws, actor_named(ws, None), "scattered", where=SCATTERED)
    create_segment(ws, actor_named(ws, None), "contiguous", where=CONTIGUOUS)
    with ws.session() as session, open_profile_store(ws.engine, ws.path) as store:
        columns = store.columns()
        compile_s, _ = median_time(
            lambda: compile_rule(parse_expression(THREE_CONDITIONS), columns), 50
        )
        print(f"parse + compile a three-condition rule: {compile_s * 1000:.2f} ms")

        count_members(session, store, ["three"])  # warm the file cache
        count_s, n = median_time(lambda: count_members(session, store, ["three"]), 5)
        print(f"count three-condition segment: {n:,} members in {count_s:.3f} s (median of 5)")

        def stream(name: str) -> int:
            rows = 0
            for batch in stream_members(session, store, [name], COLUMNS, 100_000):
                rows += batch.num_rows
            return rows

        for name in ("scattered", "contiguous"):
            stream(name)
            stream_s, members = median_time(lambda name=name: stream(name), 3)
            print(
                f"stream {name} segment: {members:,} members x 4 columns in {stream_s:.3f} s = "
                f"{members / stream_s:,.0f} rows/s (median of 3, batches of 100,000)"
            )

        # The same query straight in DuckDB: what the engine itself costs.
        from segport.segments.evaluation import members_query, predicate

        sql = store.render(members_query(store, predicate(session, store, "scattered"), COLUMNS))
        con = duckdb.connect(str(ws.profile_store_path), read_only=True)

        def raw() -> int:
            return sum(b.num_rows for b in con.sql(sql).to_arrow_reader(100_000))

        raw_s, members = median_time(raw, 3)
        con.close()
        print(f"raw DuckDB, same query as scattered: {members / raw_s:,.0f} rows/s")
    ws.close()

    help_times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "segport", "--help"], capture_output=True, check=True)
        help_times.append(time.perf_counter() - t)
    print(f"segport --help: {statistics.median(help_times):.2f} s (median of 5)")
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
