"""Start-up and exit of a `segport` process, tuned for a short-lived command.

A command imports typer, SQLAlchemy, pyarrow, DuckDB and more: some 150,000 objects that
live until the process ends. Python's cyclic collector keeps walking them: about 250
collections while they are being imported (0.07-0.1 s), and at exit the interpreter's
final collections over all of them and whatever the run left (0.2-0.3 s; 0.6-0.9 s after
a run of 1M profiles), only to free memory the operating system takes back anyway. So
the console entry point (:func:`segport.cli.main`):

- puts collection off while the command starts (:func:`starting`);
- once the command has imported what it needs (:func:`started`, called where commands
  open the workspace), freezes what exists: those objects leave the collector's sight
  (reference counting still frees them as usual) and collection resumes with the
  default thresholds for the command's real work;
- freezes everything at exit (:func:`ending`), so the final collections have nothing to
  walk. Files and databases are closed by the commands themselves, never by collection.

Start-up also spares importing httpx's own command-line client (:func:`_skip_httpx_cli`).

Tests and other callers of the typer app never call :func:`starting`, so :func:`started`
does nothing for them.
"""

from __future__ import annotations

import gc
import sys
import types

# Collection is put off, not switched off: a command that never calls started() still
# collects, once per this many new container objects (start-up makes about 150,000).
STARTUP_THRESHOLD = 1_000_000

_saved_thresholds: tuple[int, int, int] | None = None


def starting() -> None:
    """Put garbage collection off while the process imports what its command needs."""
    global _saved_thresholds
    if _saved_thresholds is None:
        _saved_thresholds = gc.get_threshold()
        gc.set_threshold(STARTUP_THRESHOLD, *_saved_thresholds[1:])
    _skip_httpx_cli()


def _httpx_cli_unavailable() -> None:
    raise SystemExit("httpx's command-line client is not loaded in a segport process")


def _skip_httpx_cli() -> None:
    """Importing httpx imports its command-line client, ``httpx._main`` (click, rich and
    pygments: 50-100 ms), only to name it ``httpx.main``; segport never runs it. A stand-in
    module with that one name is registered first, so httpx imports it instead."""
    if "httpx" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main", "segport: httpx's CLI is not loaded")
    stand_in.__dict__["main"] = _httpx_cli_unavailable
    sys.modules.setdefault("httpx._main", stand_in)


def started() -> None:
    """The command has imported what it needs: freeze that, collect normally from now on."""
    global _saved_thresholds
    if _saved_thresholds is not None:
        gc.freeze()
        gc.set_threshold(*_saved_thresholds)
        _saved_thresholds = None


def ending() -> None:
    """The command is over: spare the interpreter's final collections over every object."""
    gc.freeze()
