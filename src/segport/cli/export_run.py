"""`segport exports run NAME` and `segport exports runs NAME`: run an export, show its runs.

Progress goes to stderr (a bar with stage, rows and rate on a terminal, plain lines
otherwise), the summary to stdout, so ``--json`` output stays parseable.
Exit status: 0 successful, 1 failed, 3 skipped, 130 canceled. `exports run --all` and
`--queue` (requests for a worker) are in :mod:`segport.cli.run_requests`.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

import typer

from segport.cli.text import clean, clean_repr
from segport.cli.workspace import fail, opened, print_table, when

if TYPE_CHECKING:
    from segport.service import Progress, RunSummary, RunView

EXIT_CODES = {"successful": 0, "failed": 1, "skipped": 3, "canceled": 130}
STAGE_NAMES = {
    "count": "counting members",
    "read": "reading members",
    "prepare": "preparing contacts",
    "plan": "planning",
    "send": "sending",
    "process": "waiting for Brevo",
    "remove": "removing leavers",
    "report": "writing report",
}


def register(exports_app: typer.Typer) -> None:
    """Add the run commands to the `exports` group."""
    exports_app.command("run")(run)
    exports_app.command("runs")(runs)
    exports_app.command("rebuild-state")(rebuild_state)


def run(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="Export to run.", metavar="NAME"),
    all_: bool = typer.Option(
        False,
        "--all",
        help="Request a run of every export whose schedule is on (Run all); without a "
        "worker running, execute them here one after the other.",
    ),
    queue: bool = typer.Option(
        False, "--queue", help="Only request the run, for `segport worker` to execute."
    ),
    wait: bool = typer.Option(
        False,
        "--wait",
        help="With --all or --queue: wait for the runs to end and exit with their status "
        "(0 successful, 1 failed, 3 skipped, 130 canceled). A run in the foreground always "
        "waits.",
    ),
    full: bool = typer.Option(
        False, "--full", help="Send every member, not only the new and changed ones."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be added, updated, removed and rejected."
    ),
    allow_mass_removal: bool = typer.Option(
        False,
        "--allow-mass-removal",
        help="Mirror mode: remove even if the segments are empty or shrank by more than half.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    chunk_bytes: int = typer.Option(
        8_000_000,
        "--chunk-bytes",
        metavar="BYTES",
        help="Largest import request body in bytes (Brevo refuses over 10 MB); smaller "
        "chunks suit slow uplinks.",
    ),
) -> None:
    """Run an export now, in the foreground whatever its schedule: send its segments'
    members into its Brevo list. --all and --queue request runs instead (docs/worker.md)."""
    from segport.service import RunOptions, run_export, signals_cancel

    if all_ == (name is not None):
        fail("name one export to run (NAME), or give --all for every scheduled one")
    if (all_ or queue) and dry_run:
        fail("--dry-run runs in the foreground: give it without --all and --queue")
    if all_ and (full or allow_mass_removal):
        fail("--full and --allow-mass-removal apply to one export: give NAME, not --all")
    if all_ or queue:
        from segport.cli.run_requests import request_and_maybe_wait

        request_and_maybe_wait(
            ctx,
            name if queue and not all_ else None,
            wait=wait,
            as_json=as_json,
            full=full,
            allow_mass_removal=allow_mass_removal,
            chunk_bytes=chunk_bytes,
        )
    assert name is not None

    reporter = _Reporter(enabled=not quiet)
    with opened(ctx) as (ws, actor), signals_cancel():
        try:
            summary = run_export(
                ws,
                actor,
                name,
                full=full,
                dry_run=dry_run,
                allow_mass_removal=allow_mass_removal,
                progress=reporter,
                options=RunOptions(max_bytes=chunk_bytes),
            )
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (the engine's RunTerminated)
            reporter.close()
            sigterm = getattr(exc, "signal_name", "SIGINT") == "SIGTERM"
            how = " (SIGTERM)" if sigterm else ""
            typer.echo(f"Canceled{how}: run the same command again to resume.", err=True)
            raise typer.Exit(EXIT_CODES["canceled"]) from None
        finally:
            reporter.close()  # before an error's message, which `opened` prints
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
    else:
        render_summary(summary)
    raise typer.Exit(EXIT_CODES.get(summary.status, 1))


def rebuild_state(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Export whose state to rebuild.", metavar="NAME"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Rebuild a lost or damaged export state from the members of its Brevo list.

    Every contact of the list counts as held by the export: the next run sends the values
    of those in its segments again, and a mirror export removes the others.
    """
    from segport.errors import SegportError
    from segport.service import rebuild_state as rebuild

    reporter = _Reporter(enabled=not quiet)
    with opened(ctx) as (ws, actor):
        try:
            done = rebuild(ws, actor, name, progress=reporter)
        except SegportError as exc:
            reporter.close()
            if exc.code == "brevo_not_found":
                fail(f"Brevo has no list for export {name!r} ({exc}); check its --list-id")
            fail(f"the state of export {name!r} was not rebuilt: {exc}")
        finally:
            reporter.close()
    typer.echo(
        f"Rebuilt the state of export {name!r} from list {done.list_id}: {done.held:,} "
        f"contacts held. The next run sends the values of every member again."
    )
    if done.aside is not None:
        typer.echo(f"  The replaced state is kept as {done.aside}; delete it when done.")


def runs(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Export whose runs to list.", metavar="NAME"),
    limit: int = typer.Option(20, "--limit", help="How many of the latest runs.", metavar="N"),
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
) -> None:
    """List an export's latest runs: status, counts and when."""
    from segport.service import list_runs

    with opened(ctx) as (ws, actor):
        views = list_runs(ws, actor, name, limit=limit)
    if as_json:
        data = [run_record(v) for v in views]
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if not views:
        typer.echo(
            f"Export {clean_repr(name)} has not run yet: `segport exports run {clean(name)}`"
        )
        return
    rows = [
        [
            str(v.number),
            str(v.id),
            v.status,
            when(v.started_at or v.created_at),
            _num(v.members),
            _num(v.sent),
            _num(v.removed),
            _num(v.rejected),
            clean(v.message)[:60],
        ]
        for v in views
    ]
    print_table(
        ["run", "id", "status", "started", "members", "sent", "removed", "rejected", "note"], rows
    )


def run_record(v: RunView) -> dict[str, Any]:
    """A run as ``--json`` shows it (``exports runs``, ``runs list``, ``runs show``,
    ``runs cancel``): the RunView's fields, times in ISO 8601."""
    return v.to_dict()


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


# What to do next about a run that ended for a reason the command line can act on: the
# engine's message names the cause; the command line names its own commands and options.
REASON_HINTS = {
    "no_connection": "segport exports edit {export} --connection NAME",
    "connection_unusable": "an admin runs `segport connections take-over NAME`",
    "over_profile_limit": "segport exports edit {export} --limit N",
    "removal_refused": "segport exports run {export} --allow-mass-removal",
    "state_lost": "segport exports rebuild-state {export}",
}


def render_summary(s: RunSummary) -> None:
    """The human summary of a run (or dry run). Every text from data (names, Brevo's
    messages, sampled emails, paths) is cleaned of terminal control characters."""
    out = typer.echo
    name = clean_repr(s.export_name)
    if s.dry_run:
        out(f"Dry run of export {name}: nothing was sent.")
    else:
        number = s.run_number if s.run_number is not None else s.run_id
        run = f"Run {number}" if number is not None else "Run"
        resumed = " (resumed)" if s.resumed else ""
        handle = f" (id {s.run_id})" if s.run_id is not None else ""
        out(f"{run}{resumed} of export {name}: {clean(s.status)}{handle}")
    if s.message:
        out(f"  {clean(s.message)}")
    hint = REASON_HINTS.get(s.reason or "")
    if hint:
        out(f"  Next: {clean(hint.format(export=_quoted(s.export_name)))}")
    if s.status == "skipped" and not s.members:
        return
    to = f"list {s.list_id}" if s.list_id is not None else "its list"
    out(f"  into {to}, mode {clean(s.mode)}{', full' if s.full else ', incremental'}")
    verb_new, verb_changed = ("would add", "would update") if s.dry_run else ("new", "changed")
    rows: list[tuple[str, str]] = [
        ("members", f"{s.members:,}"),
        ("valid", f"{s.valid:,}"),
        (verb_new, f"{s.new:,}"),
        (verb_changed, f"{s.changed:,}"),
        ("unchanged", f"{s.unchanged:,}"),
    ]
    if s.dry_run:
        rows.append(("would send", f"{s.sent:,}"))
        if s.mode == "mirror":
            rows.append(("would remove", f"{s.to_remove:,}"))
    else:
        chunks = f" in {s.chunks} chunk{'s' if s.chunks != 1 else ''}" if s.chunks else ""
        unsure = (
            f" ({s.unconfirmed:,} not yet confirmed by Brevo: the next run checks them)"
            if s.unconfirmed
            else ""
        )
        rows.append(("sent", f"{s.sent:,}{chunks}{unsure}"))
        if s.mode == "mirror":
            rows.append(("removed", f"{s.removed:,}"))
    not_sent, without = s.not_sent, s.sent_without_field
    if s.rejected and not (not_sent or without):  # a summary recorded before the split
        not_sent, without = s.effects()
    rows.append(("would not send" if s.dry_run else "not sent", _by_reason(not_sent)))
    rows.append(
        ("would send without a field" if s.dry_run else "sent without a field", _by_reason(without))
    )
    if not s.dry_run:
        rows.append(("Brevo-reported failures", _by_reason(s.brevo_failures)))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        out(f"  {key.ljust(width)}  {value}")
    if s.removal_refused and s.status != "failed":
        out(f"  removal refused: {clean(s.removal_refused)}")
    for kind, label in (
        ("new", "would add"),
        ("changed", "would update"),
        ("remove", "would remove"),
    ):
        sample = s.samples.get(kind)
        if sample:
            more = {"new": s.new, "changed": s.changed, "remove": s.to_remove}[kind]
            extra = f" (and {more - len(sample):,} more)" if more > len(sample) else ""
            out(f"  {label}: {', '.join(clean(e) for e in sample)}{extra}")
    if s.rejected_csv and (s.rejected or s.brevo_failures):
        out(f"  rejected rows: {clean(s.rejected_csv)}")
    if s.changes_csv:
        counts = ", ".join(f"{s.changes.get(k, 0):,} {k}" for k in ("added", "updated", "removed"))
        out(f"  changes: {clean(s.changes_csv)} ({counts})")
    if s.stage_seconds:
        stages = ", ".join(f"{clean(k)} {v:.2f} s" for k, v in s.stage_seconds.items())
        out(f"  time: {stages}; total {s.total_seconds:.2f} s")


def _by_reason(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0"
    parts = ", ".join(f"{clean(reason)} {n:,}" for reason, n in sorted(counts.items()))
    return f"{total:,} ({parts})"


class _Reporter:
    """Renders progress events: a rich bar on a terminal, one line per stage otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None
        self._stage: str | None = None
        self._last_line = 0.0
        self._last_key: tuple[str, int, int | None] | None = None

    def __call__(self, event: Progress) -> None:
        # A stage with nothing to do (no chunk to settle, say) is worth neither a bar nor
        # a line.
        if not self.enabled or event.total == 0:
            return
        if self.tty:
            self._bar(event)
        else:
            self._line(event)

    def _bar(self, event: Progress) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description:<20}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                transient=False,
            )
            self._progress.start()
        label = STAGE_NAMES.get(event.stage, event.stage)
        if event.stage != self._stage:
            self._stage = event.stage
            self._task = self._progress.add_task(label, total=event.total, rate="")
        task = self._progress.tasks[-1]
        elapsed = task.elapsed or 0.0
        rate = f"{event.done / elapsed:,.0f} {event.unit}/s" if elapsed > 0.2 else ""
        self._progress.update(self._task, completed=event.done, total=event.total, rate=rate)

    def _line(self, event: Progress) -> None:
        now = time.monotonic()
        new_stage = event.stage != self._stage
        finished = event.total is not None and event.done >= event.total
        key = (event.stage, event.done, event.total)
        if key == self._last_key:
            return
        if not (new_stage or finished or now - self._last_line >= 2.0):
            return
        self._stage = event.stage
        self._last_line = now
        self._last_key = key
        label = STAGE_NAMES.get(event.stage, event.stage)
        of = f" of {event.total:,}" if event.total is not None else ""
        typer.echo(f"{label}: {event.done:,}{of} {event.unit}", err=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _quoted(name: str) -> str:
    """A name as a shell would need it in a command to copy."""
    import shlex

    return shlex.quote(name)
