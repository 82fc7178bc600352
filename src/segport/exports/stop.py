"""A request to stop the running export (SIGTERM, Ctrl-C), noted for the whole process.

The signal handler raises :class:`RunTerminated` in the main thread, but a library may
turn it into an error of its own: a DuckDB query running when the signal came ends with
"Query interrupted" (a RuntimeError). The note lets the run service record such a run as
canceled, as the signal asked, instead of failed.
"""

from __future__ import annotations

from segport.exports.errors import RunTerminated

_requests: list[str] = []


def request_stop(signal_name: str) -> RunTerminated:
    """Note that the process was asked to stop; returns the exception to raise for it."""
    _requests.append(signal_name)
    return RunTerminated(signal_name)


def stop_requested() -> str | None:
    """The signal that asked this process to stop (e.g. "SIGTERM"), or None."""
    return _requests[-1] if _requests else None


def clear() -> None:
    _requests.clear()
