"""A long-lived process (`segport serve`, a test, a program using the service API) keeps
reading what other processes commit, however many times it opens the workspace meanwhile.

Opening a SQLite workspace checks the metadata file. Reading it with a plain file handle
and closing that handle released every POSIX lock the process held on the file, its open
SQLite connections' included (fcntl locks belong to the process, not to the handle). The
next process to close its last connection then believed it was the last one out, and
checkpointed and deleted the write-ahead log and its index, which this process still had
open: from then on it read the deleted log and never saw another commit."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from segport.service import actor_named, init_workspace, list_workers, open_workspace
from segport.service.workers import register_worker, unregister_worker

# A worker in another process: it registers, says its pid, and stays until stdin closes.
WORKER = """
import sys
from pathlib import Path
from segport.service import actor_named, open_workspace
from segport.service.workers import register_worker, unregister_worker
ws = open_workspace(Path(sys.argv[1]))
me = register_worker(ws, actor_named(ws, None))
print(me.pid, flush=True)
sys.stdin.read()
unregister_worker(ws, me.id)
ws.close()
"""


@contextmanager
def worker_elsewhere(path: Path) -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        line = proc.stdout.readline()  # once registered (committed)
        assert line.strip().isdigit(), proc.communicate(timeout=60)[1]
        yield int(line)
    finally:
        _, err = proc.communicate("", timeout=60)
        assert proc.returncode == 0, err


def read_and_leave(db: Path) -> int:
    """Another process opens the metadata database, counts the workers, and closes its
    connection."""
    script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    script += "print(c.execute('SELECT count(*) FROM workers').fetchone()[0]); c.close()"
    done = subprocess.run(
        [sys.executable, "-c", script, str(db)],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_reopening_the_workspace_in_process_keeps_reads_fresh(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    try:
        admin = actor_named(ws, None)
        assert list_workers(ws, admin) == []  # a pooled connection now holds the database
        # What each in-process command does (the CLI in a test, a program calling
        # open_workspace per task): open the same workspace again, and close it.
        open_workspace(ws.path).close()
        assert read_and_leave(ws.path / "metadata.db") == 0
        with worker_elsewhere(ws.path) as pid:
            assert [w.pid for w in list_workers(ws, admin)] == [pid]
            # Nothing else in this process sees a different database either.
            fresh = sqlite3.connect(ws.path / "metadata.db")
            try:
                assert fresh.execute("SELECT pid FROM workers").fetchall() == [(pid,)]
            finally:
                fresh.close()
        assert list_workers(ws, admin) == []
        # And what this process writes reaches the others (it wrote into the deleted log).
        me = register_worker(ws, admin)
        assert read_and_leave(ws.path / "metadata.db") == 1
        unregister_worker(ws, me.id)
    finally:
        ws.close()
