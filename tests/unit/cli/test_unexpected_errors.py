"""An error no command turned into a message (a bug) ends as one line and a private log
file, not a traceback on the terminal (ux.md F-7)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

KEY = "xkeysib-unexpected-0123456789abcdef-77"

# A bug nothing real can produce on demand: the users service raises something no
# command expects, with the API key (held as a Secret by this process) in its text.
SCRIPT = textwrap.dedent(
    f"""
    import sys
    import segport.service.users as users
    from segport.cli import main
    from segport.secret import Secret

    Secret({KEY!r})

    def broken(*args, **kwargs):
        raise RuntimeError("boom with api-key {KEY}")

    users.list_users = broken
    sys.argv = ["segport", "--workspace", sys.argv[1], "users", "list"]
    main()
    """
)


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    ws = tmp_path / "ws"
    if not ws.exists():
        from segport.service.opening import init_workspace

        init_workspace(ws).close()
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ws)],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path), **env},
    )


def test_an_unexpected_error_is_one_line_and_a_private_log(tmp_path: Path) -> None:
    done = _run(tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "unexpected error (RuntimeError: boom" in done.stderr
    assert "This is a bug" in done.stderr and "SEGPORT_DEBUG=1" in done.stderr
    logs = list(tmp_path.glob("segport-error-*.log"))
    assert len(logs) == 1 and str(logs[0]) in done.stderr
    assert os.stat(logs[0]).st_mode & 0o777 == 0o600
    details = logs[0].read_text()
    assert "Traceback" in details and "users list" in details
    assert KEY not in details and KEY not in done.stderr


def test_segport_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = _run(tmp_path, SEGPORT_DEBUG="1")
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "RuntimeError" in done.stderr
