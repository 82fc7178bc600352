"""Errors of the export engine; each message says what happened and what to do."""

from __future__ import annotations

from segport.errors import Busy, Conflict, SegportError


class ExportRunError(SegportError):
    """A run cannot go on; the message names the cause and the next step."""

    default_code = "run_error"


class StateBusy(Busy, ExportRunError):
    """Another process holds this export's state: a run of the same export is in progress."""

    default_code = "state_busy"


class StateDamaged(Conflict, ExportRunError):
    """The export's state file cannot be read."""

    default_code = "state_damaged"


class StateLost(Conflict, ExportRunError):
    """The export's state is missing or older than its last run (its token differs)."""

    default_code = "state_lost"


class RunTerminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM, or Ctrl-C): the run ends ``canceled``.

    A KeyboardInterrupt, so every clean-up that Ctrl-C runs runs for it too. Raise it
    through :func:`segport.exports.stop.request_stop`.
    """

    @property
    def signal_name(self) -> str:
        return str(self.args[0]) if self.args else "SIGINT"


class RunCanceled(Exception):
    """A user asked for the run to stop (`segport runs cancel`); raised at a safe point
    between chunks. The engine ends the run ``canceled`` with what Brevo accepted so far."""
