"""The API's models agree with the services they render."""

from __future__ import annotations

from typing import get_args

from segport.server.api.models import RunStatus
from segport.service import RUN_STATUSES


def test_the_run_status_filter_lists_every_status_a_run_can_have() -> None:
    assert get_args(RunStatus) == tuple(RUN_STATUSES)
