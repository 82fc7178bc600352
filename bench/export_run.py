"""A 1,000,000-profile export run end to end, and the official SDK doing the same import.

Run: .venv/bin/python bench/export_run.py [--profiles 1000000] [--changed 0.01]
     [--workdir DIR] [--skip-sdk]

Setup (not timed): profiles with email, first and last name and a GB phone in mixed
national formats (a few bad rows), loaded into a fresh workspace; a segment of all of
them; the sandbox in its own process with rate limits off; a connection and an export.
Timed, each as a fresh `segport exports run` process, from command start to exit (the
command returns once Brevo's import processes completed):
  1. the first (full) run;
  2. a second run after --changed of the profiles changed their first name;
  3. bench/sdk_baseline.py: brevo-python 5 doing the same import in a straightforward way.
Peak RSS is each process's own VmHWM (Linux), reported by the process itself: wait4's
ru_maxrss would include the peak of this bench process, which forks it (ru_maxrss
survives exec). segport's phone-parsing worker processes are not included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from segport.service.access import actor_named

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
KEY = "bench-key"
FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Gus", "Hana", "Iñigo", "Jo"]
LAST = ["Smith", "O'Neil", "Nguyen", "Müller", "García", "Kowalski", "Lee", "Brown"]


def phone(r: random.Random, i: int) -> str:
    digits = f"{r.randrange(10**9):09d}"
    form = i % 5
    if i % 50 == 0:
        return "12345"  # not a phone
    if form == 0:
        return f"07{digits[:3]} {digits[3:]}"
    if form == 1:
        return f"+44 7{digits[:3]} {digits[3:]}"
    if form == 2:
        return f"0044 (0)7{digits[:3]}-{digits[3:]}"
    if form == 3:
        return f"(07{digits[:3]}) {digits[3:6]} {digits[6:]}"
    return f"447{digits}"


def profiles(n: int, seed: int = 7) -> pa.Table:
    r = random.Random(seed)
    emails = []
    for i in range(n):
        if i % 200 == 0:
            emails.append(f"broken{i}-at-example.com")  # invalid
        elif i % 333 == 0:
            emails.append(f"USER{i - 1}@Example{(i - 1) % 97}.com")  # the previous one's
        else:
            emails.append(f"user{i}@example{i % 97}.com")
    return pa.table(
        {
            "customer_id": pa.array(range(n), pa.int64()),
            "email": emails,
            "first_name": [FIRST[r.randrange(len(FIRST))] + str(i % 1000) for i in range(n)],
            "last_name": [LAST[r.randrange(len(LAST))] for _ in range(n)],
            "phone": [phone(r, i) for i in range(n)],
        }
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str) -> None:
    import httpx

    for _ in range(200):
        try:
            httpx.get(url + "/account", headers={"api-key": KEY}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit("the sandbox did not start")


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MB) of the process itself, stdout."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}):\n{text}")
    return wall, usage.ru_maxrss // 1024, text


def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    """The sandbox in its own process, rate limits off (stop it with ``terminate``)."""
    serve = ["sandbox", "--port", str(port), "--rate-limits", "off", "--api-key", KEY]
    return subprocess.Popen(
        [PY, "-m", "segport", *serve], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def make_workspace(
    ws_path: Path,
    data: Path,
    base: str,
    list_id: int,
    *,
    meta_url: str | None = None,
    into: str | None = None,
) -> list[str]:
    """A workspace at ``ws_path`` with ``data`` loaded, a segment of everyone, a connection
    to ``base`` and the export ``bench`` into ``list_id``; returns the command that runs it
    (``--json -q``). ``meta_url``: PostgreSQL metadata instead of SQLite; ``into``: the
    profiles loaded into that PostgreSQL database (bench/export_run_postgres.py)."""
    from segport.service import ExportConfig, ExportMapping, connections
    from segport.service.export_configs import add_export
    from segport.service.opening import init_workspace
    from segport.service.profile_source import load_profiles
    from segport.service.segment_definitions import create_segment

    ws = init_workspace(ws_path, meta_url)
    load_profiles(ws, actor_named(ws, None), data, id_column="customer_id", replace=True, into=into)
    create_segment(ws, actor_named(ws, None), "everyone", where="customer_id >= 0")
    connections.add_connection(
        ws,
        actor_named(ws, None),
        "bench",
        "brevo",
        KEY,
        agree_privacy=True,
        base_url=base,
        verify=True,
    )
    mapping = ExportMapping(
        email="email", first_name="first_name", last_name="last_name", phone="phone"
    )
    config = ExportConfig(
        name="bench",
        connection="bench",
        list_id=list_id,
        segments=("everyone",),
        mapping=mapping,
        phone_region="GB",
    )
    add_export(ws, actor_named(ws, None), config)
    ws.close()
    run = [PY, "-m", "segport", "--workspace", str(ws_path), "exports", "run", "bench"]
    return [*run, "--json", "-q"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profiles", type=int, default=1_000_000)
    ap.add_argument("--changed", type=float, default=0.01)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--skip-sdk", action="store_true")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="segport-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n = args.profiles

    from segport.brevo import BrevoClient
    from segport.service.opening import open_workspace
    from segport.service.profile_source import load_profiles

    # Bytecode for segport's own modules, as an installed package has (pip compiles a
    # wheel's modules; an editable install under PYTHONDONTWRITEBYTECODE=1 never would,
    # and every command would compile ~80 modules again: 0.1-0.3 s).
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    t = time.perf_counter()
    table = profiles(n)
    data = work / "profiles.parquet"
    pq.write_table(table, data)
    print(f"setup: {n:,} profiles generated in {time.perf_counter() - t:.1f} s", flush=True)

    port = free_port()
    base = f"http://127.0.0.1:{port}/v3"
    sandbox = start_sandbox(port)
    try:
        wait_up(base)
        with BrevoClient(KEY, base) as client:
            folder = client.create_folder("bench")
            list_id = client.create_list("segport", folder)
            sdk_list = client.create_list("sdk", folder)
        ws_path = work / "ws"
        run = make_workspace(ws_path, data, base, list_id)
        load1 = os.getloadavg()[0]
        wall1, rss1, out1 = timed(run)
        s1 = json.loads(out1)
        rss1 = max(s1["peak_rss_mb"].values())
        print(
            f"full run (load {load1:.1f}): {wall1:.2f} s wall, peak RSS {rss1} MB; "
            f"sent {s1['sent']:,} in "
            f"{s1['chunks']} chunks; stages {s1['stage_seconds']}",
            flush=True,
        )

        changed = int(n * args.changed)
        r = random.Random(1)
        picks = set(r.sample(range(n), changed))
        names = table.column("first_name").to_pylist()
        for i in picks:
            names[i] = names[i] + "x"
        table = table.set_column(2, "first_name", pa.array(names))
        pq.write_table(table, data)
        ws = open_workspace(ws_path)
        load_profiles(ws, actor_named(ws, None), data, id_column="customer_id", replace=True)
        ws.close()
        load2 = os.getloadavg()[0]
        wall2, rss2, out2 = timed(run)
        s2 = json.loads(out2)
        rss2 = max(s2["peak_rss_mb"].values())
        print(
            f"second run ({changed:,} changed, load {load2:.1f}): {wall2:.2f} s wall, "
            f"peak RSS {rss2} MB; "
            f"sent {s2['sent']:,}; stages {s2['stage_seconds']}",
            flush=True,
        )

        result: dict[str, Any] = {
            "profiles": n,
            "full_wall_s": round(wall1, 2),
            "full_load": round(load1, 2),
            "full_rss_mb": rss1,
            "full": s1,
            "incremental_wall_s": round(wall2, 2),
            "incremental_load": round(load2, 2),
            "incremental_rss_mb": rss2,
            "incremental": s2,
        }
        if not args.skip_sdk:
            wall3, rss3, out3 = timed(
                [
                    PY,
                    str(ROOT / "bench" / "sdk_baseline.py"),
                    "--base-url",
                    base,
                    "--api-key",
                    KEY,
                    "--list-id",
                    str(sdk_list),
                    "--profiles",
                    str(data),
                ]
            )
            s3 = json.loads(out3.strip().splitlines()[-1])
            rss3 = s3["peak_rss_mb"]
            print(
                f"brevo-python baseline: {wall3:.2f} s wall, peak RSS {rss3} MB; "
                f"sent {s3['sent']:,} in {s3['requests']} imports",
                flush=True,
            )
            result.update(sdk_wall_s=round(wall3, 2), sdk_rss_mb=rss3, sdk=s3)
        with BrevoClient(KEY, base) as client:
            result["list_count"] = client.list_contacts(list_id, limit=1).count
        print(f"list {list_id} holds {result['list_count']:,} contacts", flush=True)
        result["machine"] = (
            f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        (work / "result.json").write_text(json.dumps(result, indent=2))
        print(f"figures: {work / 'result.json'}")
    finally:
        sandbox.terminate()
        sandbox.wait()


if __name__ == "__main__":
    main()
