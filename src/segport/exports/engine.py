"""One run of an export, end to end: count, stage, prepare, plan, send, wait, remove, report.

The service (``segport.service.runs``) records the run and hands the engine an open
export state, a member source and a Brevo client factory; the engine returns a
:class:`RunSummary`. It never touches the metadata database, and nothing here holds the
segment as Python objects: rows move as Arrow batches and DuckDB tables.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from segport.brevo import AuthenticationError, BrevoClient, BrevoError
from segport.contacts.chunks import DEFAULT_MAX_BYTES
from segport.exports import hooks
from segport.exports.current import refresh_current
from segport.exports.errors import RunCanceled
from segport.exports.held import EMPTY_VALUES, bind_held
from segport.exports.plan import DRY, REAL, PlanCounts, PlanTables, build_plan, drop_relation
from segport.exports.progress import Progress, ProgressCallback, no_progress
from segport.exports.report import (
    CHANGES_CSV,
    write_changes_csv,
    write_dry_report,
    write_rejects_csv,
    write_run_report,
)
from segport.exports.resume import CARRIED, Carried, carry, pin_plan, settle_previous
from segport.exports.send import ChunkSender, SendOutcome
from segport.exports.stage import (
    MemberSource,
    Prepared,
    cache_filled,
    prepare_changed,
    reset_prepared,
    stage_members,
)
from segport.exports.state import ExportState
from segport.exports.state_tables import (
    BREVO_REJECTS,
    CHANGED_CIDS,
    CHUNKS,
    OLD_KEYS,
    STAGE_RAW,
    TODO,
)
from segport.exports.summary import CANCELED, FAILED, SKIPPED, RunSummary
from segport.exports.target import ExportTarget, config_fingerprint

ClientFactory = Callable[[], BrevoClient]
SEND_MEMORY_LIMIT = "64MB"
PLAN_REJECTS = "plan-rejects.csv"  # the plan's rejects, written before anything is sent


# The range of --chunk-bytes: Brevo refuses import bodies over 10 MB and advises about 8.
MIN_CHUNK_BYTES = 2_000
MAX_CHUNK_BYTES = 9_500_000


@dataclass(frozen=True)
class RunOptions:
    full: bool = False
    dry_run: bool = False
    allow_mass_removal: bool = False
    batch_size: int = 100_000
    process_timeout: float = 3600.0
    max_bytes: int = DEFAULT_MAX_BYTES
    phone_workers: int | None = None  # None: one per extra core
    sample_size: int = 10


def _peak_rss_mb() -> int:
    """This process's peak resident memory so far, in MB (0 where unknown).

    Linux's VmHWM is per address space, so it starts afresh at exec; ``ru_maxrss`` (the
    fallback elsewhere) keeps the peak of the process that forked us.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024 if sys.platform != "darwin" else peak // (1024 * 1024))


class _Timer:
    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - start
            seconds = self.summary.stage_seconds
            seconds[stage] = round(seconds.get(stage, 0.0) + spent, 3)
            self.summary.peak_rss_mb[stage] = _peak_rss_mb()


def execute_run(
    state: ExportState,
    source: MemberSource,
    client_factory: ClientFactory,
    target: ExportTarget,
    *,
    run_id: int | None,
    runs_dir: Path,
    options: RunOptions = RunOptions(),
    progress: ProgressCallback = no_progress,
) -> RunSummary:
    """Run ``target`` (``run_id`` None only for a dry run); returns the summary.

    Brevo failures end the run ``failed`` with Brevo's message: the checkpoints stay, so
    running again resumes. Other errors propagate after nothing unsafe was done.
    """
    if run_id is None and not options.dry_run:
        raise ValueError("a real run needs a run id")
    started = time.perf_counter()
    summary = RunSummary(
        export_name=target.config.name,
        run_id=run_id,
        list_id=target.config.list_id,
        mode=target.config.mode,
        full=options.full,
        dry_run=options.dry_run,
    )
    run: _Run | None = None
    try:
        with client_factory() as client:
            run = _Run(state, source, client, target, run_id, runs_dir, options, progress, summary)
            run.go()
    except AuthenticationError as exc:
        summary.status, summary.reason = FAILED, "brevo_error"
        summary.message = (
            f"Brevo refused the connection's API key: {exc}. Give the connection a valid API "
            "key, then run again"
        )
    except BrevoError as exc:
        summary.status, summary.reason = FAILED, "brevo_error"
        summary.message = (
            f"{exc}. What Brevo accepted is checkpointed: running again resumes the run"
        )
    except RunCanceled as exc:
        summary.status, summary.reason = CANCELED, "canceled_by_user"
        summary.message = f"{exc}. What Brevo accepted is checkpointed: running again resumes"
    if summary.status in (FAILED, CANCELED) and run is not None:
        run.report_if_unwritten()
    summary.total_seconds = round(time.perf_counter() - started, 3)
    return summary


class _Run:
    def __init__(
        self,
        state: ExportState,
        source: MemberSource,
        client: BrevoClient,
        target: ExportTarget,
        run_id: int | None,
        runs_dir: Path,
        options: RunOptions,
        progress: ProgressCallback,
        summary: RunSummary,
    ) -> None:
        self.state = state
        self.source = source
        self.client = client
        self.target = target
        self.run_id = run_id
        self.runs_dir = runs_dir
        self.options = options
        self.progress = progress
        self.summary = summary
        self.timer = _Timer(summary)
        self.tables: PlanTables = DRY if options.dry_run else REAL
        self.planned = False  # a plan was made: its report can be written
        self.reported = False

    def report_if_unwritten(self) -> None:
        """After Brevo ended the run mid-way: write its rejected rows and change record
        (what Brevo had accepted until then), which the report step did not reach."""
        if self.options.dry_run or self.run_id is None or not self.planned or self.reported:
            return
        folder = self.runs_dir / str(self.run_id)
        with self.timer("report"):
            write_run_report(
                self.state, self.run_id, folder, self.summary, send=REAL.send, remove=REAL.remove
            )
        self.reported = True

    def go(self) -> None:
        target, state, summary, timer = self.target, self.state, self.summary, self.timer
        with timer("connect"):
            types = self._attribute_types()
        if types is None:
            return
        mapping = target.mapping(types)
        columns = list(mapping.attribute_columns)
        # Saved with the plan, for the record: a saved plan is never resumed (below).
        key = {
            "config": config_fingerprint(mapping),
            "list_id": target.config.list_id,
            "target": target.identity(),  # (held.py: a new target is planned afresh)
            "empty_values": target.config.empty_values,
            "mode": target.config.mode,
            "full": self.options.full,
        }
        # A plan an earlier run left is never replayed (exports.resume): what Brevo took
        # from it is settled, then this run plans afresh, as a dry run does (and a dry
        # run settles too, so both plan from the same ``held``).
        saved = state.get("plan")
        if isinstance(saved, dict):
            with timer("process"):
                waiting = settle_previous(
                    state,
                    lambda run_id: self._sender(run_id, columns),
                    int(saved["run_id"]),
                    target.mirror,
                )
            if waiting:
                summary.status, summary.reason = FAILED, "brevo_busy"
                summary.message = (
                    "Brevo is still importing chunks of the previous run ("
                    + "; ".join(waiting[:3])
                    + "); run again once Brevo has finished them"
                )
                return
            if self.options.dry_run:
                pin_plan(state)  # (the dry run refreshes cur; the real run reads this plan)
        carried = Carried()
        if not self.options.dry_run and self.run_id is not None:
            if isinstance(saved, dict) and saved.get("run_id") != self.run_id:
                self._complete_earlier_record(int(saved["run_id"]))
            carried, summary.resumed = carry(state, self.run_id, saved)
        planned = self._plan(mapping, key)
        if planned is None:
            return
        counts = planned
        self.planned = True
        self._fill(counts)
        if self.options.dry_run:
            self._dry_samples()
            with timer("report"):
                path = self.runs_dir / "dry-run" / f"export-{target.export_id}" / "rejected.csv"
                write_dry_report(state, self.tables.rejects, path, summary)
            return
        assert self.run_id is not None
        summary.removed = carried.removed
        outcome = self._send(columns, counts.to_send, carried)
        removal_ok = not outcome.failed_chunks and not outcome.waiting
        if removal_ok:  # the whole plan is in Brevo: a keep -> clear sweep is done
            state.set(EMPTY_VALUES, target.config.empty_values)
        leavers = counts.to_remove or counts.to_release
        if target.mirror and leavers and removal_ok and not counts.removal_refused:
            from segport.exports.mirror import remove_leavers

            with timer("remove"):
                summary.removed += remove_leavers(
                    state,
                    self.client,
                    run_id=self.run_id,
                    table=self.tables.remove,
                    list_id=target.config.list_id,
                    progress=self.progress,
                )
        with timer("report"):
            folder = self.runs_dir / str(self.run_id)
            t = self.tables
            write_run_report(state, self.run_id, folder, summary, send=t.send, remove=t.remove)
        self.reported = True
        if not removal_ok:
            summary.status, summary.reason = FAILED, "incomplete"
            problems = outcome.failed_chunks + outcome.waiting
            summary.message = (
                "not every chunk was imported: "
                + "; ".join(problems[:5])
                + ". Run again: accepted chunks are kept, the others are sent again"
            )
            return
        if counts.removal_refused:
            summary.status, summary.reason = FAILED, "removal_refused"
            summary.message = "mirror removal refused: " + counts.removal_refused
        else:
            state.set("last_members", counts.members)
        self._finish()

    def _complete_earlier_record(self, old_run_id: int) -> None:
        """An earlier run ended (failed, canceled) with chunks Brevo had not confirmed, now
        settled: rewrite its change record with everything Brevo accepted from its plan,
        before that plan is dropped, so each change is listed by the run that sent it."""
        path = self.runs_dir / str(old_run_id) / CHANGES_CSV
        with self.timer("report"):
            counts = write_changes_csv(self.state, old_run_id, REAL.send, REAL.remove, path)
        self.summary.earlier_run_changes[str(old_run_id)] = counts

    # -- steps --------------------------------------------------------------------------

    def _attribute_types(self) -> dict[str, str] | None:
        """Types of the account's attributes; None (run failed) when a mapped one is gone."""
        attributes = {a.name.upper(): (a.type or "text") for a in self.client.get_attributes()}
        m = self.target.config.mapping
        wanted = [a.upper() for a in m.attributes]
        if m.first_name:
            wanted.append(m.brevo_first_name.upper())
        if m.last_name:
            wanted.append(m.brevo_last_name.upper())
        missing = [a for a in wanted if a not in attributes]
        if missing:
            self.summary.status, self.summary.reason = FAILED, "attribute_missing"
            self.summary.message = (
                f"the Brevo account has no attribute {', '.join(missing)} any more (Brevo would "
                "silently drop the values); create it in Brevo or edit the export's mapping"
            )
            return None
        return attributes

    def _plan(self, mapping: object, key: dict[str, object]) -> PlanCounts | None:
        from segport.contacts.mapping import ContactMapping
        from segport.contacts.phones import PhoneParser
        from segport.contacts.prepare import prepare_batch

        assert isinstance(mapping, ContactMapping)
        state, summary, timer, opts = self.state, self.summary, self.timer, self.options
        with timer("count"):
            members = self.source.count()
        summary.members = members
        self.progress(Progress("count", members, members))
        limit = self.target.config.profile_limit
        if members > limit:
            summary.status, summary.reason = SKIPPED, "over_profile_limit"
            summary.message = (
                f"the segments have {members:,} members, over the export's profile limit of "
                f"{limit:,}; nothing was sent. Narrow the segments or raise "
                "the export's profile limit"
            )
            return None
        if not opts.dry_run:
            # A new plan replaces any earlier one; its checkpoints go with it.
            # (The earlier plan and its chunks went in resume.carry.)
            state.con.execute(f"DELETE FROM {BREVO_REJECTS} WHERE run_id <> ?", [self.run_id])
        with timer("read"):
            reset_prepared(state, config_fingerprint(mapping))
            staged, todo_ready = stage_members(
                state,
                self.source,
                mapping.profile_columns,
                batch_size=opts.batch_size,
                progress=self.progress,
                total=members,
                cached=cache_filled(state),
            )
        summary.members = staged
        id_column = self.source.id_column
        with PhoneParser(workers=opts.phone_workers) as parser, timer("prepare"):

            def prepare(batch: object) -> Prepared:
                import pyarrow as pa

                assert isinstance(batch, pa.RecordBatch)
                out = prepare_batch(batch, mapping, id_column, phone_parser=parser)
                return Prepared(out.contacts, out.rejects, batch.num_rows)

            changed = prepare_changed(
                state, staged, prepare, progress=self.progress, todo_ready=todo_ready
            )
        with timer("plan"):
            how = refresh_current(
                state, list(mapping.attribute_columns), changed=changed, members=staged
            )
            held_view, blocked = bind_held(state, self.target, mapping, opts.dry_run)
            if held_view.note:
                summary.message = held_view.note
            counts = build_plan(
                state,
                self.tables,
                members=staged,
                attribute_columns=list(mapping.attribute_columns),
                full=opts.full,
                mirror=self.target.mirror,
                allow_mass_removal=opts.allow_mass_removal,
                cur_rebuilt=how == "rebuilt",
                held=held_view.source,
                clear_empty=self.target.clear_empty,
                peers=bool(self.target.mirror and self.target.list_peers),
                removal_blocked=blocked,
                sweep=held_view.sweep,
            )
            for scratch in (STAGE_RAW, TODO, CHANGED_CIDS, OLD_KEYS):
                state.con.execute(f"DROP TABLE IF EXISTS {scratch}")
            if not opts.dry_run:
                part = self.runs_dir / str(self.run_id) / PLAN_REJECTS
                write_rejects_csv(state, self.tables.rejects, None, part)
                state.set("plan", {"run_id": self.run_id, "key": key, "counts": asdict(counts)})
        self.progress(Progress("plan", counts.valid, counts.valid, unit="contacts"))
        if not opts.dry_run and (counts.to_send or counts.to_remove):
            self.state.note_planned()  # before anything of the plan is sent
        hooks.checkpoint("planned")
        return counts

    def _fill(self, counts: PlanCounts) -> None:
        s = self.summary
        s.members, s.valid, s.new = counts.members, counts.valid, counts.new
        s.changed, s.unchanged = counts.changed, counts.unchanged
        s.to_remove, s.removal_refused = counts.to_remove, counts.removal_refused
        s.rejected = dict(counts.rejected)
        if self.options.dry_run:
            s.sent = counts.to_send

    def _dry_samples(self) -> None:
        con, n = self.state.con, self.options.sample_size
        for kind in ("new", "changed"):
            rows = con.execute(
                f"SELECT EMAIL FROM {self.tables.send} WHERE __kind = ? "
                "OR (? = 'new' AND __kind = 'readd') ORDER BY EMAIL LIMIT ?",
                [kind, kind, n],
            ).fetchall()
            self.summary.samples[kind] = [str(r[0]) for r in rows]
        rows = con.execute(
            f"SELECT email FROM {self.tables.remove} WHERE NOT __shared ORDER BY __seq LIMIT ?",
            [n],
        ).fetchall()
        self.summary.samples["remove"] = [str(r[0]) for r in rows]

    def _sender(self, run_id: int, attribute_columns: list[str]) -> ChunkSender:
        return ChunkSender(
            self.state,
            self.client,
            run_id=run_id,
            table=REAL.send,
            list_id=self.target.config.list_id,
            attribute_columns=attribute_columns,
            progress=self.progress,
            process_timeout=self.options.process_timeout,
            max_bytes=self.options.max_bytes,
        )

    def _send(self, attribute_columns: list[str], total: int, carried: Carried) -> SendOutcome:
        assert self.run_id is not None
        sender = self._sender(self.run_id, attribute_columns)
        outcome = SendOutcome()
        # Sending reads one window of the plan at a time: a smaller buffer pool keeps the
        # blocks cached for planning from adding to the request bodies in flight.
        self.state.con.execute(f"SET memory_limit = '{SEND_MEMORY_LIMIT}'")
        try:
            with self.timer("send"):
                sender.submit_remaining(outcome, total)
            with self.timer("process"):
                sender.settle(outcome)
        finally:
            # Also when Brevo failed mid-send: ``sent`` is what Brevo took (it answered
            # with a process id, and did not report the import failed), with what earlier
            # plans of this run sent; ``unconfirmed`` the part whose import is not yet known.
            rows = self.state.con.execute(
                "SELECT coalesce(sum(rows), 0), coalesce(sum(rows) FILTER "
                f"(status = 'submitted'), 0), count(*) FROM {CHUNKS} WHERE run_id = ? "
                "AND kind = 'import' AND status IN ('submitted', 'done')",
                [self.run_id],
            ).fetchall()
            accepted, unconfirmed, chunks = (int(v or 0) for v in rows[0])
            self.summary.sent = carried.sent + accepted
            self.summary.unconfirmed = unconfirmed
            self.summary.chunks = carried.chunks + chunks
        return outcome

    def _finish(self) -> None:
        state = self.state
        state.delete("plan")
        state.delete(CARRIED)
        for table in (REAL.send, REAL.remove):
            drop_relation(state, table)
