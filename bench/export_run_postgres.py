"""The 1,000,000-profile export of bench/export_run.py with its profiles and metadata in
PostgreSQL, beside the embedded mode (DuckDB profile store, SQLite metadata), back to back.

Run: .venv/bin/python bench/export_run_postgres.py [--profiles 1000000] [--changed 0.01]
     [--modes embedded,postgres] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
     [--workdir DIR]

Each mode gets a fresh workspace, a fresh sandbox process (rate limits off) and, for
postgres, two throwaway databases: the metadata (`segport init --database-url`) and the
profile store (`profiles load --into`). Timed as in export_run.py, each a fresh `segport
exports run --json` process from start to exit: the first (full) run, then a second run
after --changed of the profiles changed their first name (reloaded with --replace, into
the same store). PostgreSQL's own CPU is not in the figures (it runs on the same machine).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_run import KEY, PY, ROOT, free_port, make_workspace, profiles, start_sandbox, timed
from export_run import wait_up as wait_sandbox
from refresh_workers import drop_database, make_database
from segport.service.access import actor_named


def one_mode(mode: str, args: argparse.Namespace, table: pa.Table, work: Path) -> dict[str, Any]:
    from segport.brevo import BrevoClient
    from segport.service.opening import open_workspace
    from segport.service.profile_source import load_profiles

    data = work / f"{mode}.parquet"
    pq.write_table(table, data)
    dbs: list[str] = []
    port = free_port()
    base = f"http://127.0.0.1:{port}/v3"
    sandbox = start_sandbox(port)
    try:
        wait_sandbox(base)
        with BrevoClient(KEY, base) as client:
            list_id = client.create_list("segport", client.create_folder("bench"))
        meta = into = None
        if mode == "postgres":
            meta = make_database(args.pg, "meta")
            dbs.append(meta)
            into = make_database(args.pg, "profiles")
            dbs.append(into)
        ws_path = work / mode
        run = make_workspace(ws_path, data, base, list_id, meta_url=meta, into=into)
        out: dict[str, Any] = {"mode": mode}
        for label in ("full", "second"):
            if label == "second":
                n = table.num_rows
                picks = random.Random(1).sample(range(n), int(n * args.changed))
                names = table.column("first_name").to_pylist()
                for i in picks:
                    names[i] += "x"
                pq.write_table(table.set_column(2, "first_name", pa.array(names)), data)
                ws = open_workspace(ws_path)
                # No `into`: a managed PostgreSQL store gets the reload, as the CLI does.
                load_profiles(ws, actor_named(ws, None), data, replace=True)
                ws.close()
            load = os.getloadavg()
            wall, _, text = timed(run)
            summary = json.loads(text)
            out[label] = {
                "wall_s": wall,
                "load": load,
                "rss_mb": max(summary["peak_rss_mb"].values()),
                "sent": summary["sent"],
                "chunks": summary["chunks"],
                "stages": summary["stage_seconds"],
            }
            print(
                f"{mode} {label} run (load {load[0]:.1f}): {wall:.2f} s, peak RSS "
                f"{out[label]['rss_mb']} MB, sent {summary['sent']:,}; stages "
                f"{summary['stage_seconds']}",
                flush=True,
            )
        with BrevoClient(KEY, base) as client:
            out["list_count"] = client.list_contacts(list_id, limit=1).count
        if mode == "postgres":
            out["state_copy"] = state_copy_costs(ws_path)
        return out
    finally:
        sandbox.terminate()
        sandbox.wait()
        for url in dbs:
            drop_database(args.pg, url)


def state_copy_costs(ws_path: Path) -> dict[str, float]:
    """With PostgreSQL metadata every run ends by saving the export's state in the
    database, and a folder without it fetches it first (service.state_copies): both timed
    here on the state the two runs left, in this process."""
    import time

    from sqlalchemy import delete

    from segport.exports.state import ExportState, state_path
    from segport.service.models import Export
    from segport.service.opening import open_workspace
    from segport.service.state_copies import copy_info, fetch_state, save_state
    from segport.service.state_copy_model import ExportStatePart

    ws = open_workspace(ws_path)
    try:
        with ws.session() as session:
            export_id = session.query(Export.id).one()[0]
        path = state_path(ws.path, export_id)
        last = copy_info(ws, export_id)  # as the second run saved it
        assert last is not None
        with ws.session() as session:  # so that the save writes every part
            session.execute(delete(ExportStatePart).where(ExportStatePart.export_id == export_id))
        with ExportState(path) as state:
            t0 = time.perf_counter()
            save_state(ws, state, export_id, state.new_token())  # what a run's end does
            save = time.perf_counter() - t0
        info = copy_info(ws, export_id)
        assert info is not None
        path.unlink()
        t0 = time.perf_counter()
        assert fetch_state(ws, export_id)
        fetch = time.perf_counter() - t0
    finally:
        ws.close()
    mb = info.bytes / 1e6
    print(
        f"state copy: {mb:.1f} MB in {info.parts} parts; the second run's save wrote "
        f"{last.parts_written} of them; a save of it all (none in the database to keep) "
        f"{save:.2f} s, fetched into an empty folder in {fetch:.2f} s",
        flush=True,
    )
    return {
        "mb": mb,
        "parts": info.parts,
        "second_run_parts_written": last.parts_written,
        "save_s": save,
        "fetch_s": fetch,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", type=int, default=1_000_000)
    ap.add_argument("--changed", type=float, default=0.01)
    ap.add_argument("--modes", default="embedded,postgres")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    modes = args.modes.split(",")
    if unknown := [m for m in modes if m not in ("embedded", "postgres")]:
        raise SystemExit(f"--modes: unknown {unknown}; choose from embedded, postgres")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="segport-bench-pgrun-"))
    work.mkdir(parents=True, exist_ok=True)
    # Bytecode for segport's modules, as an installed package has (see export_run.py).
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    table = profiles(args.profiles)
    results = [one_mode(mode, args, table, work) for mode in modes]
    print(
        "\n| mode | load (1 min) | full run | peak RSS | second run "
        f"({args.changed:.0%} changed) | peak RSS | sent (full, second) | list holds |"
    )
    print("|" + " --- |" * 8)
    for r in results:
        f, s = r["full"], r["second"]
        print(
            f"| {r['mode']} | {f['load'][0]:.1f}, {s['load'][0]:.1f} | {f['wall_s']:.2f} s | "
            f"{f['rss_mb']} MB | {s['wall_s']:.2f} s | {s['rss_mb']} MB | "
            f"{f['sent']:,}, {s['sent']:,} | {r['list_count']:,} |"
        )
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        (work / "result.json").write_text(json.dumps(results, indent=2))
        print(f"figures: {work / 'result.json'}")


if __name__ == "__main__":
    main()
