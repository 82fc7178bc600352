"""How fast the sandbox processes a 1,000,000-contact import sent as ~8 MB chunks.

Run: .venv/bin/python bench/sandbox_import.py [--contacts 1000000] [--chunk-bytes 8000000]
     [--json] [--no-updates]

The chunks (semicolon CSV `EMAIL;FIRSTNAME;LASTNAME;SMS`, or jsonBody with --json) are
built before the clock starts. The sandbox runs in this process (as in the tests) with
rate limits off. Two rounds: every contact new, then (unless --no-updates) the same
contacts again with another first name, as an export's second run sends its changed
rows. Reported per round: time to send all chunks (each answers 202 at once), time until
every import process is `completed` (checked through the API), and the import worker's
own CPU time, in total and per chunk.
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


def csv_chunks(n: int, limit: int, first: str = "First") -> list[str]:
    header = "EMAIL;FIRSTNAME;LASTNAME;SMS\n"
    chunks: list[str] = []
    lines: list[str] = [header]
    size = len(header)
    for i in range(n):
        line = f'user{i}@example.com;"{first} {i}";Last{i % 977};+336{i:08d}\n'
        if size + len(line) > limit:
            chunks.append("".join(lines))
            lines, size = [header], len(header)
        lines.append(line)
        size += len(line)
    chunks.append("".join(lines))
    return chunks


def json_chunks(n: int, limit: int, first: str = "First") -> list[bytes]:
    chunks: list[bytes] = []
    items: list[bytes] = []
    size = 0
    for i in range(n):
        item = orjson.dumps(
            {
                "email": f"user{i}@example.com",
                "attributes": {
                    "FIRSTNAME": f"{first} {i}",
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


def bodies_for(args: argparse.Namespace, first: str) -> list[bytes]:
    if args.json:
        return [
            b'{"listIds":[1],"jsonBody":' + chunk + b"}"
            for chunk in json_chunks(args.contacts, args.chunk_bytes - 40, first)
        ]
    return [
        orjson.dumps({"listIds": [1], "fileBody": text})
        for text in csv_chunks(args.contacts, args.chunk_bytes, first)
    ]


def run_round(
    label: str, client: httpx.Client, server: SandboxServer, bodies: list[bytes], rows: int
) -> int:
    """Send the chunks (`rows` contacts), wait until all are processed, print the figures;
    returns how many contacts the list holds."""
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
        cpus = [p.cpu_seconds for p in procs]
    print(f"{label}: sent {len(bodies)} chunks in {sent:.2f} s (202 each)")
    print(
        f"{label}: all {len(pids)} imports completed {done:.2f} s after the first request; "
        f"list holds {count:,} contacts ({rows / done:,.0f} rows/s)"
    )
    print(
        f"{label}: import worker {worker_wall:.2f} s busy, {sum(cpus):.2f} s CPU "
        f"({sum(cpus) / rows * 1e6:.1f} µs CPU per row); per chunk: "
        + " ".join(f"{c:.2f}" for c in cpus)
    )
    return int(count)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--chunk-bytes", type=int, default=8_000_000)
    ap.add_argument("--json", action="store_true", help="send jsonBody instead of fileBody")
    ap.add_argument("--no-updates", action="store_true", help="skip the second round")
    args = ap.parse_args()

    t = time.perf_counter()
    rounds = [("new", bodies_for(args, "First"))]
    if not args.no_updates:
        rounds.append(("updates", bodies_for(args, "Second")))
    build = time.perf_counter() - t
    kind = "jsonBody" if args.json else "fileBody"
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"built {sum(len(b) for _, b in rounds)} {kind} chunks of <= {args.chunk_bytes:,} "
        f"bytes in {build:.2f} s"
    )

    gc.collect()
    with SandboxServer(SandboxConfig(port=0, rate_limits="off")) as server:
        server.state.create_list("bench", server.state.create_folder("bench"))
        headers = {"api-key": server.api_key, "content-type": "application/json"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
            for label, bodies in rounds:
                count = run_round(label, client, server, bodies, args.contacts)
                assert count == args.contacts, count
            if not args.no_updates:
                last = client.get(f"/contacts/user{args.contacts - 1}@example.com").json()
                assert last["attributes"]["FIRSTNAME"] == f"Second {args.contacts - 1}", last
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (client and sandbox): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
