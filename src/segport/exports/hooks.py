"""A test seam for crash tests: ``SEGPORT_TEST_KILL_AT`` kills the process at a named point.

``SEGPORT_TEST_KILL_AT=submitted:2`` sends SIGKILL to the run's own process right after
the second import chunk was checkpointed as submitted (``posted:N`` after Brevo accepted
chunk N but before the checkpoint, ``done:N`` after chunk N was checkpointed as done,
``removed:N`` after removal batch N, ``planned`` once the plan is saved, ``preparing:N``
after the Nth batch of prepared contacts went into the cache, before its index). Nothing is
mocked: the process really dies, and the next run must finish the job from the state on
disk. Unset, this costs one dictionary lookup per checkpoint.
"""

from __future__ import annotations

import os
import signal

ENV = "SEGPORT_TEST_KILL_AT"


def checkpoint(name: str, number: int | None = None) -> None:
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    here = name if number is None else f"{name}:{number}"
    if here in {w.strip() for w in wanted.split(",")}:
        os.kill(os.getpid(), signal.SIGKILL)
