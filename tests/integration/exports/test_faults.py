"""429 storms, 5xx answers and dropped connections from the sandbox's fault injection:
every run still ends with exactly the segment in the list, and no contact deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.sandbox import SandboxFactory
from tests.integration.exports.conftest import make_scenario, profile

from segport.exports.engine import RunOptions

FAULTS = (
    "import:429@0.25,import:503@0.15,import:drop@0.15,import:524@0.05,"
    "processes:429@0.2,processes:500@0.15,processes:drop@0.1,"
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
        s.load([profile(i) for i in range(1, 301)])
        s.add_export(mode="mirror")
        small = RunOptions(max_bytes=4000)
        first = s.run(options=small)
        assert first.status == "successful", first.message
        assert first.chunks >= 5
        assert s.members() == {f"user{i}@example.com" for i in range(1, 301)}
        faulted = sandbox.requests_log.count(status=429) + sandbox.requests_log.count(status=503)
        assert faulted > 0  # the storm really happened
        rows = [profile(i, first_name=f"Changed{i}") for i in range(1, 121)]
        rows += [profile(i) for i in range(121, 271)]
        s.load(rows)
        second = s.run(options=small)
        assert second.status == "successful", second.message
        assert (second.changed, second.removed) == (120, 30)
        assert s.members() == {f"user{i}@example.com" for i in range(1, 271)}
        for i in (1, 120, 280, 300):
            contact = s.contact(f"user{i}@example.com")
            assert contact is not None  # left the list, never deleted
        changed = s.contact("user77@example.com")
        assert changed is not None and changed["attributes"]["FIRSTNAME"] == "Changed77"
    finally:
        s.ws.close()
