"""The console entry point's start-up and wind-down (segport.cli.lifecycle).

Each case runs in a fresh interpreter: the garbage collector's settings and the modules
httpx has imported are process-wide.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap

from segport.cli import lifecycle


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_collection_is_put_off_until_the_command_has_started() -> None:
    out = run_python(
        """
        import gc, json
        from segport.cli import lifecycle
        default = gc.get_threshold()
        lifecycle.starting()
        during = gc.get_threshold()
        lifecycle.started()
        after, frozen = gc.get_threshold(), gc.get_freeze_count()
        lifecycle.started()
        again = gc.get_threshold()
        lifecycle.ending()
        print(json.dumps([default, during, after, frozen, again, gc.get_freeze_count()]))
        """
    )
    default, during, after, frozen, again, at_exit = json.loads(out)
    assert during == [lifecycle.STARTUP_THRESHOLD, *default[1:]]
    assert after == again == default
    assert frozen > 0 and at_exit >= frozen


def test_started_changes_nothing_unless_the_entry_point_began() -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    lifecycle.started()
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)


def test_httpx_works_without_loading_its_command_line_client() -> None:
    out = run_python(
        """
        import json, sys
        from segport.cli import lifecycle
        lifecycle.starting()
        import httpx
        with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204))) as c:
            status = c.get("http://example.test/").status_code
        try:
            httpx.main()
            ran = True
        except SystemExit:
            ran = False
        loaded = sorted({"click", "rich", "pygments"} & set(sys.modules))
        print(json.dumps([status, ran, loaded]))
        """
    )
    assert json.loads(out) == [204, False, []]
