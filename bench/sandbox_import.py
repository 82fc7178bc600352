"""How fast the sandbox processes a 1,000,000-contact import sent as ~8 MB chunks.

Run: .venv/bin/python bench/sandbox_import.py [--contacts 1000000] [--chunk-bytes 8000000]
     [--json]

The chunks (semicolon CSV `EMAIL;FIRSTNAME;LASTNAME;SMS`, or jsonBody with --json) are
built before the clock starts. The sandbox runs in this process (as in the tests) with
rate limits off. Reported: time to send all chunks (each answers 202 at once), and time
until every import process is `completed`, checked through the API.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time

import httpx
import orjson

from segport.brevo.sandbox import SandboxConfig, SandboxServer


def csv_chunks(n: int, limit: int) -> list[str]:
    header = "EMAIL;FIRSTNAME;LASTNAME;SMS\n"
    chunks: list[str] = []
    lines: list[str] = [header]
    size = len(header)
    for i in range(n):
        line = f'user{i}@example.com;"First {i}";Last{i % 977};+336{i:08d}\n'
        if size + len(line) > limit:
            chunks.append("".join(lines))
            lines, size = [header], len(header)
        lines.append(line)
        size += len(line)
    chunks.append("".join(lines))
    return chunks


def json_chunks(n: int, limit: int) -> list[bytes]:
    chunks: list[bytes] = []
    items: list[bytes] = []
    size = 0
    for i in range(n):
        item = orjson.dumps(
            {
                "email": f"user{i}@example.com",
                "attributes": {
                    "FIRSTNAME": f"First {i}",
                    "LASTNAME": f"Last{i % 977}",
                    "SMS": f"+336{i:08d}",
                },
            }
        )
        if size + len(item) + 1 > limit:
            chunks.append(b"[" + b",".join(items) + b"]")
            items, size = [], 0
        items.append(item)
        size += len(item) + 1
    chunks.append(b"[" + b",".join(items) + b"]")
    return chunks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--chunk-bytes", type=int, default=8_000_000)
    ap.add_argument("--json", action="store_true", help="send jsonBody instead of fileBody")
    args = ap.parse_args()

    t = time.perf_counter()
    bodies: list[bytes] = []
    if args.json:
        for chunk in json_chunks(args.contacts, args.chunk_bytes - 40):
            bodies.append(b'{"listIds":[1],"jsonBody":' + chunk + b"}")
    else:
        for text in csv_chunks(args.contacts, args.chunk_bytes):
            bodies.append(orjson.dumps({"listIds": [1], "fileBody": text}))
    build = time.perf_counter() - t
    kind = "jsonBody" if args.json else "fileBody"
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"built {len(bodies)} {kind} chunks of <= {args.chunk_bytes:,} bytes in {build:.2f} s")

    gc.collect()
    with SandboxServer(SandboxConfig(port=0, rate_limits="off")) as server:
        server.state.create_list("bench", server.state.create_folder("bench"))
        headers = {"api-key": server.api_key, "content-type": "application/json"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
            t0 = time.perf_counter()
            pids = []
            for body in bodies:
                r = client.post("/contacts/import", content=body)
                r.raise_for_status()
                pids.append(r.json()["processId"])
            sent = time.perf_counter() - t0
            pending = set(pids)
            while pending:
                for pid in list(pending):
                    if client.get(f"/processes/{pid}").json()["status"] == "completed":
                        pending.discard(pid)
                if pending:
                    time.sleep(0.05)
            done = time.perf_counter() - t0
            count = client.get("/contacts/lists/1/contacts", params={"limit": 1}).json()["count"]
        with server.state.lock:
            procs = [server.state.processes[pid] for pid in pids]
            worker_wall = sum(p.run_seconds for p in procs)
            worker_cpu = sum(p.cpu_seconds for p in procs)
        print(f"sent {len(bodies)} chunks in {sent:.2f} s (202 each)")
        print(
            f"all {len(pids)} imports completed {done:.2f} s after the first request; "
            f"list holds {count:,} contacts ({count / done:,.0f} contacts/s)"
        )
        print(
            f"import worker: {worker_wall:.2f} s busy, {worker_cpu:.2f} s CPU "
            f"({worker_cpu / count * 1e6:.1f} µs CPU per contact)"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (client and sandbox): {peak:,.0f} MB")
        assert count == args.contacts, count


if __name__ == "__main__":
    main()
