"""429 storms, 5xx answers and dropped connections from the sandbox's fault injection:
every run still ends with exactly the segment in the list, and no contact deleted.

No 429 on /processes here: that bucket is hourly on Brevo, so its reset is long and the
client waits up to its cap (60 s) - right for Brevo, too slow for a test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.sandbox import SandboxFactory
from tests.integration.exports.conftest import make_scenario, profile

from segport.exports.engine import RunOptions

FAULTS = (
    "import:429@0.25,import:503@0.15,import:drop@0.15,import:524@0.05,"
    "processes:500@0.2,processes:502@0.1,processes:drop@0.1,"
    "attributes:502x1,lists:500@0.2,lists:drop@0.1,list-contacts:500@0.2,"
    "list-contacts:drop@0.1"
)


@pytest.mark.parametrize("seed", [3])
def test_faults_end_with_the_exact_list(
    sandbox_factory: SandboxFactory, tmp_path: Path, seed: int
) -> None:
    sandbox = sandbox_factory(faults=FAULTS, seed=seed)
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path)
    try:
        s.load([profile(i) for i in range(1, 201)])
        s.add_export(mode="mirror")
        small = RunOptions(max_bytes=2500)
        first = s.run(options=small)
        assert first.status == "successful", first.message
        assert first.chunks >= 4
        assert s.members() == {f"user{i}@example.com" for i in range(1, 201)}
        log = sandbox.requests_log
        faulted = {code: log.count(status=code) for code in (0, 429, 500, 502, 503, 524)}
        assert sum(faulted.values()) >= 3, faulted  # the storm really happened
        rows = [profile(i, first_name=f"Changed{i}") for i in range(1, 81)]
        rows += [profile(i) for i in range(81, 181)]
        s.load(rows)
        second = s.run(options=small)
        assert second.status == "successful", second.message
        assert (second.changed, second.removed) == (80, 20)
        assert s.members() == {f"user{i}@example.com" for i in range(1, 181)}
        for i in (1, 80, 190, 200):
            contact = s.contact(f"user{i}@example.com")
            assert contact is not None  # left the list, never deleted
        changed = s.contact("user77@example.com")
        assert changed is not None and changed["attributes"]["FIRSTNAME"] == "Changed77"
    finally:
        s.ws.close()
