"""Two folders, as on two machines, sharing only PostgreSQL: the metadata, the profiles and
the exports' states are in the database, so a run of an export executes in either folder
and starts from what the last run, wherever it ran, left (service.state_copies).

Folder A is made with `segport init --database-url`; folder B joins it with `segport init
--join` and a copy of A's secrets key. The two folders share no file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.fixtures.sandbox import SandboxFactory
from tests.integration.exports.conftest import Scenario, make_scenario, profile

from segport.exports.state import state_path
from segport.service.state_copies import copy_info

SEGPORT = [sys.executable, "-m", "segport", "--workspace"]


def cli(folder: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGPORT_")}
    done = subprocess.run(
        [*SEGPORT, str(folder), *args], capture_output=True, text=True, env=env, timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def join(b: Path, a: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """Folder ``b`` joins the workspace of folder ``a`` with a copy of its secrets key."""
    return cli(
        b, "init", "--join", "--database-url", database_url,
        "--secret-key-file", str(a / "secret.key"),
    )  # fmt: skip


def load_into_postgres(s: Scenario, rows: list[dict[str, Any]], url: str) -> None:
    """Load ``rows`` as the profiles, into a PostgreSQL table (later loads follow)."""
    from segport.service.profile_source import load_profiles

    s.load(rows)
    load_profiles(s.ws, s.admin, s.tmp / "profiles.csv", replace=True, into=url)


def run_in(folder: Path, s: Scenario, *, ok: bool = True) -> dict[str, Any]:
    out = cli(folder, "exports", "run", "news", "--json", ok=ok).stdout
    s.sandbox.state.wait_idle()
    summary: dict[str, Any] = json.loads(out)
    return summary


@pytest.mark.postgres
def test_runs_of_one_export_alternate_between_two_folders_sharing_only_postgresql(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    s = make_scenario(a, sandbox_factory(), tmp_path, pg_database)
    try:
        # The profiles go to PostgreSQL too (later loads follow: a managed table).
        load_into_postgres(s, [profile(i) for i in range(1, 41)], pg_database)
        s.add_export(mode="mirror")
        export_id = _export_id(s)

        joined = join(b, a, pg_database)
        assert "opens 1 saved API keys" in joined.stdout
        assert "PostgreSQL" in joined.stdout
        assert not (b / "metadata.db").exists() and not (b / "profiles.duckdb").exists()
        assert oct((b / "secret.key").stat().st_mode & 0o777) == "0o600"

        # Run 1 in A: every member sent; the state's copy saved with the export's token.
        first = run_in(a, s)
        assert first["status"] == "successful" and first["sent"] == 40
        assert s.members() == {f"user{i}@example.com" for i in range(1, 41)}
        copy = copy_info(s.ws, export_id)
        assert copy is not None and copy.token == _token(s, export_id)
        assert not state_path(b, export_id).exists()
        doctor = cli(b, "doctor", ok=False).stdout
        assert "state kept in the database" in doctor and "not cached here" in doctor

        # Run 2 in B, after a change: B fetches the state and sends only what changed;
        # the mirror export removes the leavers it knows it sent from A.
        s.load(
            [profile(i) for i in range(1, 31)]
            + [profile(i, first_name="Changed") for i in range(31, 36)]
            + [profile(i) for i in range(41, 46)]
        )
        second = run_in(b, s)
        assert second["status"] == "successful", second
        assert (second["new"], second["changed"], second["removed"]) == (5, 5, 5), second
        assert state_path(b, export_id).exists()
        assert s.members() == {f"user{i}@example.com" for i in (*range(1, 36), *range(41, 46))}
        assert (s.contact("user33@example.com") or {})["attributes"]["FIRSTNAME"] == "Changed"

        # Run 3 back in A: its own file is one run behind; it is replaced by B's, so
        # nothing is sent again and nothing is refused as lost.
        third = run_in(a, s)
        assert third["status"] == "successful", third
        assert (third["sent"], third["removed"]) == (0, 0)
        assert copy_info(s.ws, export_id).token == _token(s, export_id)  # type: ignore[union-attr]

        # A's file lost altogether: the next run in A fetches the copy again, and sends
        # only what changed (36-40 back, 31-35's first names back), not all 45.
        state_path(a, export_id).unlink()
        s.load([profile(i) for i in range(1, 46)])
        fourth = run_in(a, s)
        assert (fourth["new"], fourth["changed"], fourth["removed"]) == (5, 5, 0), fourth
        assert s.members() == {f"user{i}@example.com" for i in range(1, 46)}
    finally:
        s.ws.close()


@pytest.mark.postgres
def test_a_mirror_export_in_b_keeps_what_a_list_peer_that_ran_in_a_holds(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    """The other exports' states on the list are fetched too: without them, folder B
    would think nobody else holds the leavers and remove them. A peer with a run going on
    (on another worker) holds back every removal."""
    from segport.service.run_lifecycle import request_run
    from segport.service.segment_definitions import create_segment

    a, b = tmp_path / "a", tmp_path / "b"
    s = make_scenario(a, sandbox_factory(), tmp_path, pg_database)
    try:
        load_into_postgres(s, [profile(i) for i in range(1, 11)], pg_database)
        create_segment(s.ws, s.admin, "first-five", where="customer_id <= 5")
        s.add_export("keeper", segments=["first-five"])  # add mode: holds 1-5
        s.add_export("news", mode="mirror", list_id=s.list_id, share_list=True)
        assert cli(a, "exports", "run", "keeper").returncode == 0
        assert run_in(a, s)["sent"] == 10
        join(b, a, pg_database)

        # 1-3 leave news's segment (keeper still holds them), 9-10 leave both.
        s.load([profile(i, tier="silver" if i <= 3 else "gold") for i in range(1, 9)])
        # keeper has a run going on elsewhere: news removes nobody, and says why.
        request_run(s.ws, s.admin, "keeper")
        with s.ws.engine.begin() as conn:
            conn.execute(text("UPDATE runs SET status = 'processing' WHERE status = 'queued'"))
        held_back = run_in(b, s, ok=False)
        assert (held_back["status"], held_back["reason"]) == ("failed", "removal_refused")
        assert held_back["removed"] == 0, held_back
        assert "'keeper' shares this list and is running now on another worker" in (
            held_back["removal_refused"] or ""
        )
        with s.ws.engine.begin() as conn:
            conn.execute(text("UPDATE runs SET status = 'canceled' WHERE status = 'processing'"))

        real = run_in(b, s)
        assert real["removed"] == 2, real
        assert s.members() == {f"user{i}@example.com" for i in range(1, 9)}
    finally:
        s.ws.close()


@pytest.mark.postgres
def test_joining_refuses_a_key_that_does_not_open_the_saved_api_keys(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    s = make_scenario(tmp_path / "a", sandbox_factory(), tmp_path, pg_database)
    s.ws.close()
    other = tmp_path / "other"
    cli(other, "init")  # a workspace of its own, with another key
    b = tmp_path / "b"
    done = cli(
        b, "init", "--join", "--database-url", pg_database,
        "--secret-key-file", str(other / "secret.key"), ok=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "does not open the saved API key of connection 'sandbox'" in done.stderr
    assert not (b / "workspace.json").exists() and not (b / "secret.key").exists()

    no_key = cli(tmp_path / "c", "init", "--join", "--database-url", pg_database, ok=False)
    assert no_key.returncode == 1 and "secret.key" in no_key.stderr

    not_pg = cli(tmp_path / "d", "init", "--join", "--secret-key-file", "x", ok=False)
    assert not_pg.returncode == 2 and "--database-url" in not_pg.stderr


@pytest.mark.postgres
def test_a_joined_folder_refuses_to_read_profiles_it_does_not_have(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    """Profiles left in A's embedded store: a run in B fails saying so, never reading an
    empty store (a mirror export would empty the list)."""
    a, b = tmp_path / "a", tmp_path / "b"
    s = make_scenario(a, sandbox_factory(), tmp_path, pg_database)
    try:
        s.add_export(mode="mirror")
        assert run_in(a, s)["sent"] == 3
        joined = join(b, a, pg_database)
        assert "embedded DuckDB store of the machine that loaded them" in joined.stderr
        done = cli(b, "exports", "run", "news", ok=False)
        assert done.returncode == 1
        assert "loaded on another machine" in done.stdout + done.stderr
        assert len(s.members()) == 3
    finally:
        s.ws.close()


def _token(s: Scenario, export_id: int) -> str:
    with s.ws.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT state_token FROM exports WHERE id = :i"), {"i": export_id}
            ).scalar_one()
        )


def _export_id(s: Scenario) -> int:
    with s.ws.engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM exports WHERE name = 'news'")).scalar_one())


@pytest.mark.postgres
def test_a_damaged_copy_is_refused_and_the_run_fails_saying_so(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    from segport.exports.errors import StateDamaged

    s = make_scenario(tmp_path / "a", sandbox_factory(), tmp_path, pg_database)
    try:
        s.add_export()
        assert s.run().status == "successful"
        export_id = _export_id(s)
        with s.ws.engine.begin() as conn:
            conn.execute(text("UPDATE export_state_parts SET data = 'x'::bytea"))
        state_path(s.ws.path, export_id).unlink()
        with pytest.raises(StateDamaged, match="incomplete or changed while it was read"):
            s.run()
        assert not state_path(s.ws.path, export_id).exists()
        assert not state_path(s.ws.path, export_id).with_suffix(".duckdb.fetching").exists()
    finally:
        s.ws.close()


def test_on_one_machine_the_state_stays_in_the_folder(scenario: Scenario) -> None:
    """SQLite metadata: nothing is copied into the database."""
    scenario.add_export()
    assert scenario.run().status == "successful"
    assert copy_info(scenario.ws, _export_id(scenario)) is None
    assert state_path(scenario.ws.path, _export_id(scenario)).exists()


@pytest.mark.postgres
def test_a_run_stopped_in_a_resumes_exactly_in_b(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    """SIGTERM stops the run in A after its current chunk; its state, checkpoints
    included, is saved as it ends, so the run in B sends only what A did not."""
    import signal

    from tests.integration.exports.test_cli_resume import CHUNK, wait_for_imports

    from segport.service.runs import list_runs

    a, b = tmp_path / "a", tmp_path / "b"
    s = make_scenario(a, sandbox_factory(faults="import:slow=0.1"), tmp_path, pg_database)
    try:
        load_into_postgres(s, [profile(i) for i in range(1, 401)], pg_database)
        s.add_export()
        join(b, a, pg_database)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEGPORT_")}
        proc = subprocess.Popen(
            [*SEGPORT, str(a), "exports", "run", "news", "--json", *CHUNK],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for_imports(s, proc, 2, "it could be stopped")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        [run] = list_runs(s.ws, s.admin, "news")
        assert run.status == "canceled" and run.summary is not None
        s.sandbox.state.wait_idle()

        done = cli(b, "exports", "run", "news", "--json", *CHUNK)
        resumed = json.loads(done.stdout)
        s.sandbox.state.wait_idle()
        assert resumed["status"] == "successful", resumed
        # What A's chunks added, B settled (Brevo's reports) rather than sent again.
        earlier = resumed["earlier_run_changes"][str(run.id)]["added"]
        assert earlier > 0 and earlier + resumed["sent"] == 400, resumed
        assert s.members() == {f"user{i}@example.com" for i in range(1, 401)}
    finally:
        s.ws.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_workers_in_two_folders_share_the_runs_of_one_workspace(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    """A `segport worker` in each folder: the two runs requested go one to each (through
    procrastinate); then each worker alone executes both exports, including the one the
    other folder ran last, and sends only what changed."""
    from tests.fixtures.waiting import wait_until
    from tests.integration.exports.conftest import add_own
    from tests.integration.exports.test_worker_recovery import FAST_BEATS, ended, stop

    from segport.service.run_lifecycle import request_run
    from segport.service.runs import list_runs
    from segport.service.workers import list_workers

    a, b = tmp_path / "a", tmp_path / "b"
    s = make_scenario(a, sandbox_factory(faults="import:slow=0.25"), tmp_path, pg_database)

    def worker(folder: Path) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEGPORT_")}
        env.update(FAST_BEATS)
        return subprocess.Popen(
            [*SEGPORT, str(folder), "worker", "--poll", "0.2", "--chunk-bytes", "3000"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def round_of(procs: list[subprocess.Popen[str]], n: int) -> dict[str, Any]:
        pids = {p.pid for p in procs}
        wait_until(lambda: pids <= {w.pid for w in list_workers(s.ws, s.admin)}, 60, "the workers")
        for name in ("alpha", "beta"):
            request_run(s.ws, s.admin, name)
        wait_until(
            lambda: ended(s, "alpha", n) and ended(s, "beta", n), 120, f"round {n}", poll=0.1
        )
        latest = {e: list_runs(s.ws, s.admin, e)[0] for e in ("alpha", "beta")}
        for view in latest.values():
            assert view.status == "successful", view
            s.sandbox.state.wait_idle()
        return latest

    try:
        load_into_postgres(s, [profile(i) for i in range(1, 201)], pg_database)
        add_own(s, "alpha", mode="mirror")
        add_own(s, "beta", mode="mirror")
        join(b, a, pg_database)
        with s.ws.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, list_id FROM exports")).all()
        lists = {str(name): int(list_id) for name, list_id in rows}

        both = [worker(a), worker(b)]
        try:
            first = round_of(both, 1)
        finally:
            for p in both:
                stop(p)
        # (Each worker executes one run at a time, and the runs overlap: one each.)
        assert {v.claimed_by.rpartition(":")[2] for v in first.values() if v.claimed_by} == {
            str(p.pid) for p in both
        }

        for n, folder in ((2, b), (3, a)):
            s.load([profile(i, first_name=f"R{n}") if i <= 10 else profile(i)
                    for i in range(1, 202 - n)])  # fmt: skip
            alone = [worker(folder)]
            try:
                runs = round_of(alone, n)
            finally:
                stop(alone[0])
            for name, view in runs.items():
                assert view.summary is not None
                # Ten first names changed (to R2, then to R3) and one member left; sent
                # everything again, the run would count 10 + 189 or so as changed or new.
                assert (view.summary.changed, view.summary.new) == (10, 0), (name, view.summary)
                assert view.summary.removed == 1, (name, view.summary)
                expected = {f"user{i}@example.com" for i in range(1, 202 - n)}
                assert s.members(lists[name]) == expected
    finally:
        s.ws.close()


@pytest.mark.postgres
def test_a_save_writes_only_the_parts_that_changed_and_a_fetch_reuses_the_rest(
    sandbox_factory: SandboxFactory,
    tmp_path: Path,
    pg_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Small parts (64 KiB, a setting of ours) so a small state has many: a run that
    changes one contact rewrites few of them, and a folder one run behind fetches only
    those, taking the others from its own older file."""
    import hashlib
    import shutil

    from segport.service import state_copies
    from segport.service.state_copies import fetch_state

    monkeypatch.setattr(state_copies, "PART_BYTES", 64 * 1024)
    s = make_scenario(tmp_path / "a", sandbox_factory(), tmp_path, pg_database)
    try:
        rows = [profile(i) for i in range(1, 3001)]
        s.load(rows)
        s.add_export()
        assert s.run().status == "successful"
        export_id = _export_id(s)
        path = state_path(s.ws.path, export_id)
        first = copy_info(s.ws, export_id)
        assert first is not None and first.parts > 10
        behind = tmp_path / "behind.duckdb"
        shutil.copy(path, behind)

        rows[0] = profile(1, first_name="Changed")
        s.load(rows)
        assert s.run().changed == 1
        second = copy_info(s.ws, export_id)
        assert second is not None and 0 < second.parts_written < second.parts, second

        shutil.copy(behind, path)  # this folder one run behind
        fetched = fetch_state(s.ws, export_id)
        assert fetched is not None and 0 < fetched < second.parts
        with state_copies.ExportState(path) as state:
            assert state.token_matches(_token(s, export_id))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with s.ws.engine.connect() as conn:
            saved = conn.execute(
                text("SELECT sha256 FROM export_states WHERE export_id = :i"), {"i": export_id}
            ).scalar_one()
        assert digest == saved
    finally:
        s.ws.close()


@pytest.mark.postgres
@pytest.mark.parametrize("kill_at", ["submitted:2", "done:1"])
def test_a_run_killed_in_a_resumes_exactly_in_b(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str, kill_at: str
) -> None:
    """SIGKILL in A right after a checkpoint: A saves nothing as it dies, but its plan copy
    and its checkpoints since are in the database (service.run_checkpoints), so B settles
    the chunks Brevo took and sends only the rest: no chunk twice."""
    from tests.integration.exports.test_cli_resume import CHUNK, IMPORT

    from segport.exports.hooks import ENV as KILL_ENV
    from segport.service.runs import list_runs

    a, b = tmp_path / "a", tmp_path / "b"
    s = make_scenario(a, sandbox_factory(), tmp_path, pg_database)
    try:
        load_into_postgres(s, [profile(i) for i in range(1, 401)], pg_database)
        s.add_export()
        join(b, a, pg_database)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEGPORT_")}
        killed = subprocess.run(
            [*SEGPORT, str(a), "exports", "run", "news", *CHUNK],
            env={**env, KILL_ENV: kill_at}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert killed.returncode == -9, killed.stderr
        s.sandbox.state.wait_idle()
        posted_by_a = s.sandbox.requests_log.count(IMPORT)
        assert posted_by_a >= 2
        with s.ws.engine.begin() as conn:  # what recovery does to a lost run (test speed)
            conn.execute(text("UPDATE runs SET status = 'failed' WHERE status = 'processing'"))
        [lost] = list_runs(s.ws, s.admin, "news")

        done = cli(b, "exports", "run", "news", "--json", *CHUNK)
        resumed = json.loads(done.stdout)
        s.sandbox.state.wait_idle()
        assert resumed["status"] == "successful", resumed
        assert s.members() == {f"user{i}@example.com" for i in range(1, 401)}
        # B posted only chunks A had not: every contact went to Brevo exactly once.
        assert s.sandbox.requests_log.count(IMPORT) == posted_by_a + resumed["chunks"]
        earlier = resumed["earlier_run_changes"][str(lost.id)]["added"]
        assert earlier > 0 and earlier + resumed["sent"] == 400, resumed
    finally:
        s.ws.close()


@pytest.mark.postgres
def test_saving_an_open_state_keeps_its_lock(
    sandbox_factory: SandboxFactory, tmp_path: Path, pg_database: str
) -> None:
    """Closing any descriptor of a file drops the process's POSIX locks on it, DuckDB's
    too: the state is read for saving through its own descriptor, so another process is
    still kept out while a run holds it (after its plan copy is saved mid-run)."""
    from segport.exports.state import ExportState
    from segport.service.state_copies import save_open_state

    s = make_scenario(tmp_path / "a", sandbox_factory(), tmp_path, pg_database)
    probe = (
        "import duckdb, sys\n"
        "try:\n    duckdb.connect(sys.argv[1]).close(); print('opened')\n"
        "except duckdb.Error: print('locked')\n"
    )
    try:
        s.add_export()
        assert s.run().status == "successful"
        export_id = _export_id(s)
        path = state_path(s.ws.path, export_id)
        with ExportState(path) as state:
            save_open_state(s.ws, state, export_id, _token(s, export_id))
            other = subprocess.run(
                [sys.executable, "-c", probe, str(path)], capture_output=True, text=True
            )
            assert other.stdout.strip() == "locked", other.stdout + other.stderr
    finally:
        s.ws.close()
